"""The serving process's collector settings (hotline/runtime.py, applied by wsgi.py in each worker)."""
from __future__ import annotations

import gc

from hotline import runtime


def test_tune_gc_freezes_what_starting_made_and_collects_young_objects_less_often():
    saved = gc.get_threshold()
    try:
        gc.unfreeze()
        runtime.tune_gc()
        assert gc.get_threshold() == (runtime.YOUNG_THRESHOLD, *runtime.OLDER_THRESHOLDS)
        assert gc.get_freeze_count() > 10_000  # the modules and the app loaded so far
        garbage = []
        garbage.append(garbage)  # a cycle still goes, at the next collection
        del garbage
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
        gc.set_threshold(*saved)
