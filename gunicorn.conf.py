"""gunicorn reads this file from the working folder by itself, so the Procfile's command needs no option for it.

With PROMETHEUS_MULTIPROC_DIR set (hjp/operations/metrics.py), gunicorn's worker processes each write their
request metrics to files in that folder, which /metrics adds up: the folder is emptied when gunicorn starts, or
the counts of a previous run would be added again. A worker that exits (recycled by `--max-requests`, or
killed) has its counts folded into the folder's `*_dead.db` files and its own files deleted, so the folder does
not grow with every worker gunicorn ever started (hjp.operations.metrics.fold_dead_process)."""

import os
from pathlib import Path


def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        from hjp.operations.metrics import fold_dead_process

        fold_dead_process(worker.pid, folder)
