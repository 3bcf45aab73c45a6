"""`JobQueue`: long requests (a photo's projection) run one at a time on a worker thread; their
progress is polled (`GET /api/jobs/<id>`). Pure Python: the work itself is a callable."""

from __future__ import annotations

import itertools
import queue
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable

from latentjax.studio.params import RequestError


class Job:
    """A unit of background work and what the page shows of it (thread-safe snapshot)."""

    def __init__(self, job_id: str, kind: str, steps: int):
        self.id, self.kind = job_id, kind
        self._lock = threading.Lock()
        self._fields = {"state": "queued", "step": 0, "steps": steps, "message": "waiting for the worker"}
        self.created = time.monotonic()

    def update(self, **fields) -> None:
        with self._lock:
            self._fields.update(fields)

    def snapshot(self) -> dict:
        with self._lock:
            return {"id": self.id, "kind": self.kind, **self._fields}


class JobQueue:
    """FIFO of jobs, one daemon worker thread (started on the first job), at most `max_pending` waiting.

    submit(kind, steps, fn) -> job id; fn(job) -> result dict, merged into the job's snapshot
    with state "done". RequestError / ValueError in fn -> state "failed" with its message;
    anything else -> "failed" with the exception named (and the traceback on the server log).
    """

    def __init__(self, max_pending: int = 4, keep: int = 64, log: Callable[[str], None] | None = None):
        self._queue: queue.Queue = queue.Queue()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._max_pending, self._keep = max_pending, keep
        self._worker: threading.Thread | None = None
        self._log = log or (lambda msg: None)

    def submit(self, kind: str, steps: int, fn: Callable[[Job], dict]) -> str:
        with self._lock:
            pending = sum(j.snapshot()["state"] in ("queued", "running") for j in self._jobs.values())
            if pending >= self._max_pending:
                raise RequestError(f"{pending} jobs already waiting: try again when one has finished", status=429)
            job = Job(f"job{next(self._ids)}", kind, steps)
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:  # forget the oldest finished jobs
                oldest = next(iter(self._jobs.values()))
                if oldest.snapshot()["state"] in ("queued", "running"):
                    break
                self._jobs.popitem(last=False)
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="latentjax-studio-jobs", daemon=True)
                self._worker.start()
        self._queue.put((job, fn))
        return job.id

    def get(self, job_id: str) -> dict:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise RequestError(f"no job {job_id!r} (finished jobs are kept for the last {self._keep})", status=404)
        return job.snapshot()

    def _run(self) -> None:
        while True:
            job, fn = self._queue.get()
            job.update(state="running", message="starting")
            try:
                result = fn(job)
                job.update(state="done", message="done", **result)
            except (RequestError, ValueError) as e:
                job.update(state="failed", message=str(e))
            except Exception as e:  # keep the worker alive for the next job, say what happened
                self._log(f"job {job.id} failed:\n{traceback.format_exc()}")
                job.update(state="failed", message=f"{type(e).__name__}: {e}")
