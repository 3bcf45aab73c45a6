"""Argument helpers shared by the command modules: the model options, number lists, JSON output."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_MODEL = "toyfaces-sg2"


def model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        "-m",
        default=DEFAULT_MODEL,
        help="official pickle, converted checkpoint dir, or shipped model name (default: %(default)s)",
    )
    p.add_argument("--network", default=None, help="pickle entry to use (default Gs for TF, G_ema for PyTorch)")


def floats(spec: str) -> list[float]:
    try:
        return [float(x) for x in spec.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"bad number list {spec!r} (use e.g. -3,-1.5,0,1.5,3)") from None


def vec2(spec: str) -> tuple[float, float]:
    """'X,Y' -> (X, Y), for argparse (NVIDIA gen_images.py's --translate)."""
    try:
        x, y = (float(v) for v in spec.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two numbers X,Y (e.g. 0.3,1), got {spec!r}") from None
    return x, y


def write_json(path: str | None, payload: dict) -> None:
    """payload as JSON at `path` (`io.write_json`), and say so; nothing without a path."""
    from latentjax.io import write_json as write

    if path:
        write(path, payload)
        print(f"wrote {path}")


def distributed_args(p: argparse.ArgumentParser) -> None:
    """--coordinator / --num-processes / --process-id (all three, or none: the environment JAX detects)."""
    g = p.add_argument_group("several processes / hosts (latentjax.distributed; or use `latentjax launch`)")
    g.add_argument("--coordinator", default=None, metavar="HOST:PORT", help="process 0's address, reachable by all")
    g.add_argument("--num-processes", type=int, default=None, metavar="N")
    g.add_argument("--process-id", type=int, default=None, metavar="I", help="this process, 0..N-1")
    g.add_argument(
        "--heartbeat-timeout", type=int, default=100, metavar="S", help="seconds before a silent peer counts as dead"
    )


def start_distributed(args) -> int:
    """Join the job the flags (or the environment) describe, before anything touches a device."""
    from latentjax.distributed import DistributedConfig, initialize

    cfg = DistributedConfig(
        args.coordinator, args.num_processes, args.process_id, heartbeat_timeout=args.heartbeat_timeout
    )
    return initialize(cfg)


def stage_printer(quiet: bool = False):
    """A progress callback for the long library calls: prints "[  12.3s] what…" lines to stderr
    (stdout keeps the results), or nothing with --quiet. Returns (callback, seconds since start)."""
    import sys
    import time

    t0 = time.perf_counter()

    def say(what: str) -> None:
        if not quiet:
            print(f"[{time.perf_counter() - t0:6.1f}s] {what}", file=sys.stderr, flush=True)

    return say, lambda: time.perf_counter() - t0


def check_image_out(path: str, animation: bool = False) -> None:
    """Refuse an output file Pillow (or, for .mp4, imageio-ffmpeg) cannot write, before any rendering."""
    from PIL import Image

    from latentjax.errors import InputError
    from latentjax.media import video_available

    suffix = Path(path).suffix.lower()
    if suffix == ".mp4":
        if not animation:
            raise InputError(f"{path}: .mp4 is an animation; use .gif / .mp4 with interpolate, or .png here")
        if not video_available():
            raise InputError(
                f"{path}: .mp4 needs imageio and imageio-ffmpeg (pip install imageio imageio-ffmpeg); or use .gif"
            )
        return
    if suffix not in Image.registered_extensions():
        raise InputError(
            f"{path}: unknown image type {suffix or '(no suffix)'}; use .png{', .gif or .mp4' if animation else ''}"
        )


def progress_bar(disabled: bool = False, unit: str = "it", min_total: int = 0, desc: str | None = None):
    """A tqdm bar on stderr as a library progress callback (`latentjax.progress.Bar`; `.update_to`)."""
    from latentjax.progress import Bar

    return Bar(disabled, unit, min_total, desc)


def noise_mode_arg(p: argparse.ArgumentParser, default: str = "const", help: str | None = None) -> None:
    """--noise-mode with the generator's modes (`generator.NOISE_MODES`: const, random, none)."""
    from latentjax.generator import NOISE_MODES

    p.add_argument("--noise-mode", choices=NOISE_MODES, default=default, help=help)
