"""Cost of the API-edge checks (latentjax.validate) on a generate batch.

Times, interleaved in one run so machine load hits both alike: `G.mapping` + `G.synthesis` (the
checked public path) against the same jitted programs called directly (`mapping_fn` /
`synthesis_fn` through run_sharded, no checks), and the checks alone. Numbers only.

    python benchmarks/validation.py                          # toyfaces-sg2, batch 16, 20 reps
    python benchmarks/validation.py --model weights/toyfaces-sg2 --batch 64 --reps 50
"""

from __future__ import annotations

import argparse
import functools
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

from latentjax import load_generator, validate  # noqa: E402
from latentjax.generator import mapping_fn, synthesis_fn  # noqa: E402
from latentjax.sharding import run_sharded  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="toyfaces-sg2")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args(argv)

    G = load_generator(args.model)
    cfg = G.config
    z = np.random.RandomState(0).randn(args.batch, cfg.z_dim).astype(np.float32)
    noise = [None] * len(cfg.noise_resolutions)
    mfn = functools.partial(mapping_fn, cfg=cfg)
    sfn = functools.partial(synthesis_fn, cfg=cfg)

    def checked():
        return G.synthesis(G.mapping(z, 0.7), "const").block_until_ready()

    def raw():
        ws = run_sharded(lambda v, zz: mfn(v, zz, jnp.float32(0.7), cfg.num_ws), G.variables, jnp.asarray(z))
        return run_sharded(sfn, G.variables, ws, extra=noise).block_until_ready()

    ws = np.asarray(G.mapping(z, 0.7))

    def checks_only():
        validate.real_array(z, "z", ("N", cfg.z_dim), min_rows=1)
        validate.scalar(0.7, "truncation_psi")
        validate.real_array(ws, "ws", ("N", cfg.num_ws, cfg.w_dim), min_rows=1)

    np.testing.assert_array_equal(np.asarray(checked()), np.asarray(raw()))  # same programs, same pixels
    times = {"checked": [], "raw": [], "checks": []}
    for _ in range(args.reps):
        for name, fn in (("checked", checked), ("raw", raw), ("checks", checks_only)):
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    med = {k: float(np.median(v)) for k, v in times.items()}
    load = os.getloadavg()[0]
    print(
        f"{G!r}, batch {args.batch}, {args.reps} reps interleaved, load average {load:.1f}, {jax.devices()[0].platform}"
    )
    print(f"  G.mapping + G.synthesis (checked): {med['checked'] * 1e3:8.2f} ms median")
    print(f"  same jitted programs, no checks:   {med['raw'] * 1e3:8.2f} ms median")
    print(f"  the checks alone:                  {med['checks'] * 1e3:8.3f} ms median")
    print(f"  ratio checked / raw: {med['checked'] / med['raw']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
