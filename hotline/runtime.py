"""Settings of the Python process that serves the app (wsgi.py, once per gunicorn worker)."""
from __future__ import annotations

import gc

# Python's default (700 allocations) runs a young collection dozens of times per page: a case list makes
# tens of thousands of container objects, most of them freed by reference counting at the end of the request.
# Measured in process, alternating rounds in one process (docs/benchmarks.md, part seven): 0-7 % less CPU per
# request at the median and 4-11 % at the mean, which the rarer collections of the older generations push up.
YOUNG_THRESHOLD = 50_000
OLDER_THRESHOLDS = (20, 20)


def tune_gc() -> None:
    """Fewer, larger young collections; and the objects made while starting (the modules and the app; templates
    are compiled later, at their first page) moved out of the collector's sight, so that a full collection
    does not walk them again. No
    collection first: the CLI (flask --app wsgi) runs this too, and a full collection of the started heap costs
    more than the little garbage starting leaves."""
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
