"""Projection memory without running it: XLA's own accounting of one compiled projector step.

For StyleGAN2 config-f (random weights) at RES, batch N, W+ with LPIPS and noise maps (NVIDIA's
defaults), lower and compile the projector step (`projector.project_step`'s programs) for abstract inputs and print
`memory_analysis()`: temp (the step's working memory: activations kept for the backward pass and
its transients), arguments and outputs. Nothing runs, so a case that would need 20 GB can be
measured on a small machine (a compile at 1024^2 takes 1-3 min and < 1 GB). Modes:

    plain    the whole batch in one forward/backward pass (`ProjectConfig(micro_batch=0)`)
    mbK      K images per pass (`micro_batch=K`; the default at 1024^2 is 1): the program of one pass
    remat    plain, with every synthesis layer under `jax.checkpoint` (its activations recomputed
             in the backward pass instead of kept): the rematerialisation alternative, built here by
             wrapping `nets.stylegan2.synthesis_layer` for this process only; the library does not
             ship it (see BENCHMARKS.md "Projection memory" for why)

    python benchmarks/project_memory.py --res 1024 --batch 8 --modes plain,mb1,remat
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:  # allow `python benchmarks/project_memory.py` without installing
        sys.path.insert(0, str(p))


def analyse(res: int, n: int, mode: str) -> str:
    import jax
    import jax.numpy as jnp
    from generate import full_config

    import latentjax.nets.stylegan2 as sg2
    from latentjax.nets.network import init_variables
    from latentjax.perceptual import load_lpips_params
    from latentjax.projector import (
        ProjectState,
        StepSpec,
        _chunk_loss_and_grad,
        _one_pass_step,
        image_keys,
        init_noise,
        target_features,
    )

    if mode == "remat":
        layer = sg2.synthesis_layer

        def remat_layer(p, x, w, noise, **static):
            return jax.checkpoint(functools.partial(layer, **static))(p, x, w, noise)

        sg2.synthesis_layer = remat_layer  # this process only: StyleGAN2Synthesis looks it up at trace time
    mb = int(mode[2:]) if mode.startswith("mb") else 0
    cfg = full_config("stylegan2", res)
    variables = jax.eval_shape(lambda: init_variables(cfg, jax.random.key(0)))
    lp = load_lpips_params()
    spec = StepSpec(cfg, True, "lpips", "relu3_3", 256, 0.9, 0.999, 1e-8, micro_batch=mb)
    keys = image_keys(jax.random.key(0), n)
    params = {"w": jnp.zeros((n, cfg.num_ws, cfg.w_dim)), "noise": init_noise(cfg, keys)}
    state = jax.eval_shape(lambda: ProjectState(params, spec.optimizer().init(params)))
    targets = jax.ShapeDtypeStruct((n, res, res, 3), jnp.float32)
    tfeats = jax.eval_shape(lambda t: target_features(lp, t, spec=spec), targets)
    f32 = jax.ShapeDtypeStruct((), jnp.float32)
    weights = {"perceptual": f32, "mse": f32, "reg": f32}
    t0 = time.perf_counter()
    step = jax.ShapeDtypeStruct((), jnp.int32)
    if mb:  # what one pass of a micro-batched step compiles (the Adam update after the passes is tiny)
        params, targets, tfeats, keys = jax.tree_util.tree_map(
            lambda a: jax.ShapeDtypeStruct((mb, *a.shape[1:]), a.dtype), (state.params, targets, tfeats, keys)
        )
        lowered = _chunk_loss_and_grad.lower(
            params, targets, tfeats, keys, variables, lp, step, f32, weights, spec=spec
        )
    else:
        lowered = _one_pass_step.lower(state, variables, lp, targets, tfeats, keys, step, f32, f32, weights, spec=spec)
    m = lowered.compile().memory_analysis()
    gib = 2**30
    return (
        f"{res}^2 batch {n} {mode:>5s}: temp {m.temp_size_in_bytes / gib:.2f} GiB, arguments "
        f"{m.argument_size_in_bytes / gib:.2f} GiB, outputs {m.output_size_in_bytes / gib:.2f} GiB "
        f"(compile {time.perf_counter() - t0:.0f} s)"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--res", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--modes", default="plain,mb1,mb2,remat")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(analyse(args.res, args.batch, args.child), flush=True)
        return 0
    for mode in args.modes.split(","):  # a fresh process per mode: remat patches a module
        cmd = [sys.executable, __file__, "--res", str(args.res), "--batch", str(args.batch), "--child", mode]
        p = subprocess.run(cmd, capture_output=True, text=True)
        print(p.stdout.strip() if p.returncode == 0 else f"{mode}: failed: {p.stderr[-500:]}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
