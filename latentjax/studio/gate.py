"""`DeviceGate`: one user of the accelerator at a time, interactive renders first.

Renders (any number of tabs, each request on its own server thread) pass through `render()`
one at a time. A long background computation (a photo's projection) takes the gate for one
optimisation step at a time with `step()` and, between steps, waits while any render is queued,
so a slider never waits for more than one projection step. Why a gate and not just a lock: a
plain lock gives no priority, and the projector would re-take it right after every step.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager


class DeviceGate:
    def __init__(self):
        self._cond = threading.Condition()
        self._busy = False
        self._renders_waiting = 0

    @contextmanager
    def render(self):
        """Exclusive use for one interactive render; goes before any waiting background step."""
        with self._cond:
            self._renders_waiting += 1
            try:
                while self._busy:
                    self._cond.wait()
            finally:
                self._renders_waiting -= 1
            self._busy = True
        try:
            yield
        finally:
            self._release()

    def acquire_step(self) -> None:
        """Block until nothing runs and no render waits, then hold the gate for one background step."""
        with self._cond:
            while self._busy or self._renders_waiting:
                self._cond.wait()
            self._busy = True

    def release_step(self) -> None:
        self._release()

    @contextmanager
    def step(self):
        self.acquire_step()
        try:
            yield
        finally:
            self.release_step()

    def _release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._busy
