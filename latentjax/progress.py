"""Progress of long library calls, passed in: `progress` is a callback progress(done, total, **info)
(the CLI's bars, a notebook's widget), True (a tqdm bar on stderr, for scripts), or False / None
(silent). The library never prints progress on its own."""

from __future__ import annotations

from collections.abc import Callable

Progress = bool | Callable[..., None] | None


class Bar:
    """A progress(done, total, **info) callback drawing a tqdm bar on stderr, opened at the first report
    (so a compile does not distort its ETA and the total is known) or by `open`; nothing when disabled
    or total < min_total. `info` floats show as the bar's postfix. A context manager (closes the bar)."""

    def __init__(self, disabled: bool = False, unit: str = "it", min_total: int = 0, desc: str | None = None):
        self.disabled, self.unit, self.min_total, self.desc = disabled, unit, min_total, desc
        self.bar = None

    def open(self, total: int, initial: int = 0) -> None:
        if self.bar is None and not self.disabled and total >= self.min_total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit=self.unit, desc=self.desc)

    def __call__(self, done: int, total: int, **info) -> None:
        self.open(total)
        if self.bar is None:
            return
        self.bar.update(done - self.bar.n)
        if info:
            self.bar.set_postfix(**{k: f"{v:.4f}" if isinstance(v, float) else v for k, v in info.items()})

    update_to = __call__

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Reporter:
    """Counts `done` of `total` (starting at `initial`) and tells `progress` after each `update`
    (True: a `Bar` shown at once, from `initial`); `info` (e.g. loss=...) goes along."""

    def __init__(self, progress: Progress, total: int, desc: str = "", unit: str = "it", initial: int = 0):
        self.total, self.done = total, initial
        self.own = Bar(unit=unit, desc=desc or None) if progress is True else None
        self.callback = self.own if self.own is not None else progress if callable(progress) else None
        if self.own is not None:
            self.own.open(total, initial)

    def update(self, n: int = 1, **info) -> None:
        self.done += n
        if self.callback is not None:
            self.callback(self.done, self.total, **info)

    def close(self) -> None:
        if self.own is not None:
            self.own.close()

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
