"""Projection: seconds per step and peak memory of `latentjax.projector`, plain vs micro-batched.

Cases are `model:batch:mode`: model = toy (the shipped 64x64 generator) | 256 | 1024 (StyleGAN2
config-f, random weights; LPIPS on the image area-downsampled to 256, as NVIDIA's projector);
mode = plain (the whole batch in one forward/backward pass, `ProjectConfig(micro_batch=0)`) |
auto (the default, `micro_batch=None`: at most 2^19 pixels per pass) | mbK (K images per pass).
Each case runs in its own subprocess (so its peak RSS, `ru_maxrss`, is its own) and runs
`project(G, targets, "w+", steps)` with a per-step callback: the first step holds the trace and
the XLA compile, the rest are timed (median step). Printed per case: compile s, s/step, s per
image-step, peak RSS, and for non-plain modes the time ratio to the plain case of the same
model and batch in this run. Numbers only: nothing is asserted.

    python benchmarks/project.py            # 256 b1/b8 and 1024 b1 plain; 1024 b8 plain, auto, mb2
    python benchmarks/project.py --cases toy:1:plain,toy:8:plain
    python benchmarks/project.py --cases 1024:8:auto --steps 3

A plain 1024^2 batch-8 pass needs ~17 GB: its child asks the kernel's OOM killer to pick it first
(oom_score_adj 1000), so on a smaller machine that case dies alone and is reported as killed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:  # allow `python benchmarks/project.py` without installing
        sys.path.insert(0, str(p))

DEFAULT_CASES = "256:1:plain,256:8:plain,1024:1:plain,1024:8:plain,1024:8:auto,1024:8:mb2"


def micro_batch_of(mode: str) -> int | None:
    if mode == "plain":
        return 0
    if mode == "auto":
        return None
    if mode.startswith("mb") and mode[2:].isdigit():
        return int(mode[2:])
    raise SystemExit(f"unknown mode {mode!r} (plain | auto | mbK)")


def run_case(model: str, batch: int, mode: str, steps: int) -> dict:
    """The child: build the generator, project `batch` random targets for `steps` steps, time them."""
    import jax
    import numpy as np
    from generate import full_config

    from latentjax import load_generator
    from latentjax.generator import Generator
    from latentjax.nets.network import init_variables
    from latentjax.projector import ProjectConfig, micro_batch_size, project

    if model == "toy":
        G = load_generator("toyfaces-sg2")
    else:
        cfg = full_config("stylegan2", int(model))
        G = Generator(cfg, init_variables(cfg, jax.random.key(0)))
    res = G.config.resolution
    targets = np.random.RandomState(0).uniform(-1, 1, (batch, res, res, 3)).astype(np.float32)
    # w_avg from 1000 samples: the mapping's cost is not what is measured here
    config = ProjectConfig(w_avg_samples=1000, micro_batch=micro_batch_of(mode))
    stamps: list[float] = []
    t0 = time.perf_counter()
    project(G, targets, "w+", steps, config, progress=lambda i, loss: stamps.append(time.perf_counter()))
    dt = np.diff([t0, *stamps])
    step = statistics.median(dt[1:].tolist())
    return {
        "model": model,
        "resolution": res,
        "batch": batch,
        "mode": mode,
        "images_per_pass": micro_batch_size(batch, res, config.micro_batch, jax.local_device_count()),
        "steps": steps,
        "compile_s": float(dt[0] - step),
        "step_s": step,
        "step_times_s": dt[1:].tolist(),
        "s_per_image_step": step / batch,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,  # KiB on Linux -> GiB
    }


def child(case: str, steps: int) -> int:
    try:  # this process is the one to kill if memory runs out, not a neighbour's
        Path("/proc/self/oom_score_adj").write_text("1000")
    except OSError:
        pass
    model, batch, mode = case.split(":")
    print(json.dumps(run_case(model, int(batch), mode, steps)), flush=True)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=DEFAULT_CASES, help="comma list of model:batch:mode")
    ap.add_argument("--steps", type=int, default=0, help="steps per case, the first compiles (default 30 / 4 / 3)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child, args.steps)
    import jax

    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {platform.machine()}, {os.cpu_count()} CPUs")
    rows, plain = [], {}
    for case in args.cases.split(","):
        model, batch, mode = case.split(":")
        micro_batch_of(mode)  # bad mode: stop before running anything
        steps = args.steps or {"toy": 30, "256": 4}.get(model, 3)
        load0 = os.getloadavg()[0]
        cmd = [sys.executable, __file__, "--child", case, "--steps", str(steps)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            why = "killed (out of memory?)" if p.returncode in (-9, 137) else f"exit {p.returncode}"
            print(f"{case}: {why}; stderr tail: {p.stderr[-400:]!r}", flush=True)
            rows.append({"case": case, "failed": why})
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        r["load_before"], r["load_after"] = load0, os.getloadavg()[0]
        if mode == "plain":
            plain[(model, batch)] = r["step_s"]
        extra = ""
        if mode != "plain" and (model, batch) in plain:
            r["time_vs_plain"] = r["step_s"] / plain[(model, batch)]
            extra = f", {r['time_vs_plain']:.2f}x the plain step"
        rows.append(r)
        print(
            f"{model:>4s} {r['resolution']:4d}^2 batch {batch} {mode:>5s} ({r['images_per_pass']} per pass): "
            f"compile {r['compile_s']:.1f} s, {r['step_s']:.2f} s/step "
            f"({', '.join(f'{t:.2f}' for t in r['step_times_s'])}), {r['s_per_image_step']:.2f} s per image-step, "
            f"peak RSS {r['peak_rss_gib']:.2f} GiB{extra} (load {load0:.1f} -> {r['load_after']:.1f})",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
