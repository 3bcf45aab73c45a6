"""Per-layer timing of StyleGAN2's 2x up-sampling conv: sub-pixel 3x3 conv vs polyphase + FIR.

The two formulations of the same layer (`ops.fir`): "subpixel" folds the [1,3,3,1] FIR into a 6x6
kernel and runs one 3x3 conv with 4*O outputs (9*I*O MACs per OUTPUT pixel, 4x the official
count); "polyphase" runs the stride-2 transposed conv as four sub-kernel convs (2x2, 2x1, 1x2,
1x1: 9*I*O MACs per INPUT pixel, the official count) followed by the FIR as shifted adds.
Both are timed alternately in one process (median of --reps jitted forwards each), for the
up-sampling layers of a config-f generator at --resolution and --batch; the load average is
printed before and after. Numbers only: nothing is asserted.

    python benchmarks/upconv.py --resolution 256 --batch 8
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from latentjax.ops.conv import upsample_conv2d_kernel  # noqa: E402
from latentjax.ops.fir import setup_filter, transposed_conv_2x, upsample_conv_polyphase  # noqa: E402


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resolution", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    f = setup_filter([1, 3, 3, 1], gain=4.0)
    res = [2**i for i in range(3, args.resolution.bit_length())]
    ch = {r: min(32768 // r, 512) for r in [4] + res}
    forms = {
        "subpixel": jax.jit(lambda x, w: transposed_conv_2x(x, *upsample_conv2d_kernel(w, f))),
        "polyphase": jax.jit(lambda x, w: upsample_conv_polyphase(x, w, f, upsample_conv2d_kernel(w, f)[1])),
    }
    print(f"jax {jax.__version__}, {jax.device_count()} device(s); load before: {_loadavg()}")
    print(
        f"{'layer':<18} {'GMAC official':>13} {'subpixel ms':>11} {'polyphase ms':>12} {'ratio':>6} {'max |diff|':>10}"
    )
    tot = {k: 0.0 for k in forms}
    for r in res:
        cin, cout, h = ch[r // 2], ch[r], r // 2
        rng = np.random.RandomState(r)
        x = jnp.asarray(rng.randn(args.batch, h, h, cin).astype(np.float32))
        w = jnp.asarray(rng.randn(3, 3, cin, cout).astype(np.float32) / np.sqrt(9 * cin))
        outs = {k: jax.block_until_ready(fn(x, w)) for k, fn in forms.items()}  # compile
        times = {k: [] for k in forms}
        for _ in range(args.reps):
            for k, fn in forms.items():  # alternate, so load changes hit both alike
                t0 = time.perf_counter()
                jax.block_until_ready(fn(x, w))
                times[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        for k in forms:
            tot[k] += med[k]
        diff = float(jnp.abs(outs["subpixel"] - outs["polyphase"]).max())
        gmac = 9 * cin * cout * h * h * args.batch / 1e9
        print(
            f"{h:>3}->{r:<4} {cin:>3}->{cout:<4} {gmac:>13.2f} {med['subpixel'] * 1e3:>11.1f} "
            f"{med['polyphase'] * 1e3:>12.1f} {med['subpixel'] / med['polyphase']:>5.2f}x {diff:>10.1e}",
            flush=True,
        )
    print(
        f"all up-convs: subpixel {tot['subpixel']:.2f} s, polyphase {tot['polyphase']:.2f} s "
        f"-> {tot['subpixel'] / tot['polyphase']:.2f}x; load after: {_loadavg()}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
