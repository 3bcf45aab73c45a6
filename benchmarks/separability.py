"""Linear separability at NVIDIA's scale: 200k samples x all toyfaces attributes, JAX vs scikit-learn.

The sample (z, w, classifier probabilities of toyfaces-sg2) is drawn once with `latentjax sample`'s
machinery into --data (resumable; reused by later runs), or --labels exact takes the toy world's
labels of z (no synthesis), then each engine scores Z and W. Printed:
sampling time, per engine and space the wall time (the JAX engine's first call includes its XLA
compile; a second call is timed too) and the score, and the engines' relative score difference.
Numbers only: nothing is asserted.

    python benchmarks/separability.py                        # 200k (sampling ~10 min on 2 cores, once)
    python benchmarks/separability.py --n 20000 --data /tmp/sep20k
    python benchmarks/separability.py --labels exact        # no synthesis: the engines only
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # allow `python benchmarks/separability.py` without installing
    sys.path.insert(0, str(ROOT))

import jax  # noqa: E402

import latentjax  # noqa: E402
from latentjax.dataset import SampleConfig, sample_dataset  # noqa: E402
from latentjax.metrics.sample import from_dataset, sample_labelled  # noqa: E402
from latentjax.metrics.separability import linear_separability  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--model", default="toyfaces-sg2")
    ap.add_argument("--data", default="/tmp/latentjax-separability-200k", help="sample directory (reused)")
    ap.add_argument("--engines", default="jax,sklearn")
    ap.add_argument("--labels", choices=["classifier", "exact"], default="classifier", help="exact: toy labels of z")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    print(f"jax {jax.__version__} on {jax.devices()[0].platform} ({jax.device_count()} device(s))", flush=True)

    t0 = time.perf_counter()
    G = latentjax.load_generator(args.model)
    if args.labels == "exact":  # the toy world's labels of z: no synthesis, seconds instead of minutes
        data = sample_labelled(G, args.n, 0, 1.0, "exact", batch=4096)
    else:
        clf = latentjax.load_classifier("toyfaces")
        sample_dataset(G, args.data, SampleConfig(n=args.n, batch=512, shard_size=20_000), clf, progress=True)
        data = from_dataset(args.data)
    t_sample = time.perf_counter() - t0
    print(f"sample: {args.n} rows, {args.labels} labels, in {t_sample:.1f} s", flush=True)

    rows = []
    for space in ("z", "w"):
        x = data.latents(space)
        for engine in args.engines.split(","):
            times = []
            for _ in range(2 if engine == "jax" else 1):  # jax: first call compiles
                t0 = time.perf_counter()
                r = linear_separability(x, data.probs, engine=engine)
                times.append(time.perf_counter() - t0)
            rows.append({"space": space, "engine": engine, "score": r.score, "seconds": times})
            again = f" ({times[1]:.1f} s compiled)" if len(times) > 1 else ""
            print(f"{space} {engine:7s}: score {r.score:.4f} in {times[0]:.1f} s{again}", flush=True)
        pair = {r["engine"]: r["score"] for r in rows if r["space"] == space}
        if len(pair) == 2:
            print(f"{space}: |jax - sklearn| / sklearn = {abs(pair['jax'] - pair['sklearn']) / pair['sklearn']:.2e}")
    if args.json:
        Path(args.json).write_text(json.dumps({"n": args.n, "sample_s": t_sample, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
