"""LPIPS's VGG16 on small images: XLA's conv vs nine matrix products (`ops.conv3x3_taps`).

`perceptual.vgg16` convolves feature maps of at most `_TAPS_MAX_PIXELS` pixels as nine products of
shifted views; 0 sends every layer through `lax.conv_general_dilated` (what it did before). For
each image size, both settings are compiled, then timed interleaved in one run (load hits both
alike): the gradient with respect to the images of the LPIPS distance to fixed targets, what a
projection, PPL or inversion step runs. Numbers only; the two agree to float rounding (printed).

    python benchmarks/lpips.py                           # 16, 64, 256 px, batch 2, 5 reps
    python benchmarks/lpips.py --sizes 32,128 --batch 8 --reps 10
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from latentjax.perceptual import vgg16  # noqa: E402
from latentjax.perceptual.lpips import lpips  # noqa: E402
from latentjax.perceptual.weights import load_lpips_params  # noqa: E402


def gradient_fn(max_pixels: int):
    """A freshly traced jitted d LPIPS(x, y) / dx with the given threshold baked in at trace time."""

    def loss(x, y, params):
        saved, vgg16._TAPS_MAX_PIXELS = vgg16._TAPS_MAX_PIXELS, max_pixels
        try:
            return jnp.sum(lpips(params, x, y))
        finally:
            vgg16._TAPS_MAX_PIXELS = saved

    return jax.jit(jax.grad(loss))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="16,64,256")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    params = load_lpips_params()
    print(f"jax {jax.__version__}, {jax.devices()[0].platform}, load average {os.getloadavg()[0]:.1f}")
    print("| images | XLA conv | nine products (<= 64 px maps) | speed-up | max abs difference |")
    print("|---|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        rng = np.random.default_rng(size)
        x, y = (jnp.asarray(rng.uniform(-1, 1, (args.batch, size, size, 3)), jnp.float32) for _ in range(2))
        fns = {"conv": gradient_fn(0), "taps": gradient_fn(vgg16._TAPS_MAX_PIXELS)}
        out = {k: jax.block_until_ready(f(x, y, params)) for k, f in fns.items()}  # compile
        times = {k: [] for k in fns}
        for _ in range(args.reps):
            for k, f in fns.items():
                t0 = time.perf_counter()
                jax.block_until_ready(f(x, y, params))
                times[k].append(time.perf_counter() - t0)
        conv, taps = (float(np.median(times[k])) * 1e3 for k in ("conv", "taps"))
        diff = float(jnp.abs(out["conv"] - out["taps"]).max())
        print(f"| {args.batch} x {size}^2 | {conv:.1f} ms | {taps:.1f} ms | {conv / taps:.2f}x | {diff:.1e} |")
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
