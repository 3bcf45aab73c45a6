"""Projection throughput: optimisation steps per second of `latentjax.projector`, batch 1 vs batch N.

Cases: the shipped toy generator (64x64) and full-size StyleGAN2 config-f with random weights at
256x256 and 1024x1024 (LPIPS on the image area-downsampled to 256, as NVIDIA's projector). Each
case runs `project(G, targets, "w+", steps)` with a per-step callback; the first step holds the
trace + XLA compile, the rest are timed (median step time). Printed per case: compile seconds,
steps/s, seconds per image-step, and for batch > 1 the per-image speed-up over batch 1 (how
much cheaper one image is inside a batch than in its own run). Numbers only: nothing is asserted.

    python benchmarks/project.py                       # 64^2 b1/b8, 256^2 b1/b8, 1024^2 b1 (~15 min, 2 cores)
    python benchmarks/project.py --cases toy:1,toy:8   # just the toy generator
    python benchmarks/project.py --cases 1024:8        # needs ~20 GB of host memory on CPU
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:  # allow `python benchmarks/project.py` without installing
        sys.path.insert(0, str(p))

import jax  # noqa: E402
import numpy as np  # noqa: E402
from generate import full_config  # noqa: E402

from latentjax import load_generator  # noqa: E402
from latentjax.generator import Generator  # noqa: E402
from latentjax.nets.network import init_variables  # noqa: E402
from latentjax.projector import ProjectConfig, project  # noqa: E402

DEFAULT_CASES = "toy:1,toy:8,256:1,256:8,1024:1"


def make_generator(model: str) -> Generator:
    if model == "toy":
        return load_generator("toyfaces-sg2")
    cfg = full_config("stylegan2", int(model))
    return Generator(cfg, init_variables(cfg, jax.random.key(0)))


def time_case(G: Generator, batch: int, steps: int) -> dict:
    res = G.config.resolution
    targets = np.random.RandomState(0).uniform(-1, 1, (batch, res, res, 3)).astype(np.float32)
    stamps: list[float] = []
    # w_avg from 1000 samples: the mapping's cost is not what is measured here
    config = ProjectConfig(w_avg_samples=1000)
    t0 = time.perf_counter()
    project(G, targets, "w+", steps, config, progress=lambda i, loss: stamps.append(time.perf_counter()))
    dt = np.diff([t0, *stamps])
    step = statistics.median(dt[1:].tolist())
    return {"compile_s": float(dt[0] - step), "step_s": step, "steps_per_s": 1 / step, "s_per_image_step": step / batch}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=DEFAULT_CASES, help="comma list of model:batch, model = toy | 256 | 1024")
    ap.add_argument("--steps", type=int, default=0, help="steps per case (default 30 / 8 / 4 at 64 / 256 / 1024^2)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    dev = jax.devices()[0]
    print(f"jax {jax.__version__} on {dev.platform} ({jax.device_count()} device(s)), {platform.machine()}")
    rows, gens, base = [], {}, {}
    for case in args.cases.split(","):
        model, batch = case.split(":")
        batch = int(batch)
        if model not in gens:
            gens = {model: make_generator(model)}  # one full-size generator in memory at a time
        steps = args.steps or {"toy": 30, "256": 8}.get(model, 4)
        r = {"model": model, "resolution": gens[model].config.resolution, "batch": batch, "steps": steps}
        r.update(time_case(gens[model], batch, steps))
        if batch == 1:
            base[model] = r["s_per_image_step"]
        if model in base and batch > 1:
            r["per_image_speedup"] = base[model] / r["s_per_image_step"]
        rows.append(r)
        extra = f", {r['per_image_speedup']:.2f}x cheaper per image than batch 1" if "per_image_speedup" in r else ""
        print(
            f"{model:>4s} {r['resolution']:4d}^2 batch {batch}: compile {r['compile_s']:.1f} s, "
            f"{r['steps_per_s']:.2f} steps/s, {r['s_per_image_step'] * 1e3:.0f} ms per image-step{extra}",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
