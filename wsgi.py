"""WSGI entry point (gunicorn 'wsgi:app'). With HOTLINE_SCHEDULER=1 each web process also runs the jobs;
their run lock and unique keys keep the effects single."""
import os
import sys

from hotline import create_app
from hotline.runtime import tune_gc

app = create_app()

if app.config["HOTLINE_SCHEDULER"] and os.path.basename(sys.argv[0]) not in ("flask", "pytest"):
    from hotline.jobs import build_scheduler

    build_scheduler(app).start()

tune_gc()  # last: what starting made is frozen (hotline/runtime.py)
