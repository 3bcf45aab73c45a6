"""Progress of long library calls, passed in: `progress` is a callback progress(done, total, **info)
(the CLI's bars, a notebook's widget), True (a tqdm bar on stderr, for scripts), or False / None
(silent). The library never prints progress on its own."""

from __future__ import annotations

from collections.abc import Callable

Progress = bool | Callable[..., None] | None


class Reporter:
    """Counts `done` of `total` (starting at `initial`) and tells `progress` after each `update`;
    `info` (e.g. loss=...) is passed to the callback or shown as the bar's postfix."""

    def __init__(self, progress: Progress, total: int, desc: str = "", unit: str = "it", initial: int = 0):
        self.callback = progress if callable(progress) else None
        self.total, self.done = total, initial
        self.bar = None
        if progress is True:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc or None, unit=unit)

    def update(self, n: int = 1, **info) -> None:
        self.done += n
        if self.callback is not None:
            self.callback(self.done, self.total, **info)
        elif self.bar is not None:
            self.bar.update(n)
            if info:
                self.bar.set_postfix(**{k: f"{v:.4f}" if isinstance(v, float) else v for k, v in info.items()})

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
