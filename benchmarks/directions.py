"""Batched JAX fit of one linear classifier per attribute vs the scikit-learn loop.

Latents: w = mapping(z) of a toy generator (default toyfaces-sg2) for n z ~ N(0, I) (default
50k), labels: the toy world's exact labels_of(z) (12 attributes). For each penalty the two
engines solve the same objective (sklearn's parametrisation, same C):

    l2: sklearn LogisticRegression(lbfgs) per attribute  vs  fit_linear_classifiers(lbfgs), all at once
    l1: sklearn LogisticRegression(saga) per attribute   vs  fit_linear_classifiers(fista), all at once

Printed: wall time of each (the JAX one split into first call = compile + fit, and a second
call), the speed-up, and held-out accuracy (last 20% of the rows) per attribute with the largest
difference in points. Numbers only: nothing is asserted.

    python benchmarks/directions.py                  # 50k x 12 attributes, ~2-4 min on 2 cores
    python benchmarks/directions.py --n 10000 --penalties l2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from latentjax import load_generator  # noqa: E402
from latentjax.directions import fit_linear_classifiers, predict  # noqa: E402
from latentjax.directions.linear import logistic_model  # noqa: E402
from latentjax.toyfaces import ATTRIBUTES, labels_of  # noqa: E402

SKLEARN_SOLVER = {"l2": "lbfgs", "l1": "saga"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="toyfaces-sg2")
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--C", type=float, default=0.1)
    ap.add_argument("--penalties", nargs="+", default=["l2", "l1"], choices=["l2", "l1"])
    args = ap.parse_args(argv)

    G = load_generator(args.model)
    z = np.asarray(jax.random.normal(jax.random.key(0), (args.n, G.config.z_dim)), np.float32)
    w = np.concatenate([np.asarray(G.mapping(z[i : i + 8192]))[:, 0] for i in range(0, args.n, 8192)])
    lab = labels_of(z)
    y = np.stack([np.asarray(lab[a]) for a in ATTRIBUTES], axis=1)
    cut = int(0.8 * args.n)
    x_fit, y_fit, x_val, y_val = w[:cut], y[:cut], w[cut:], y[cut:]
    print(f"{args.model}: w [{args.n}, {w.shape[1]}], {len(ATTRIBUTES)} attributes, C = {args.C}, fit on {cut}")
    print(f"devices: {jax.devices()}")

    for pen in args.penalties:
        t = time.perf_counter()
        sk_acc = []
        for a in range(y.shape[1]):
            m = logistic_model(args.C, pen, SKLEARN_SOLVER[pen], max_iter=1000).fit(x_fit, y_fit[:, a])
            sk_acc.append(np.mean(m.predict(x_val) == y_val[:, a]))
        t_sk = time.perf_counter() - t

        t = time.perf_counter()
        fit = fit_linear_classifiers(x_fit, y_fit, penalty=pen, C=args.C)
        jax.block_until_ready(fit.weights)
        t_first = time.perf_counter() - t
        t = time.perf_counter()
        fit = fit_linear_classifiers(x_fit, y_fit, penalty=pen, C=args.C)
        jax.block_until_ready(fit.weights)
        t_jax = time.perf_counter() - t
        jx_acc = np.mean(np.asarray(predict(fit.weights, fit.biases, x_val)) == y_val, axis=0)

        diff = 100 * (jx_acc - np.asarray(sk_acc))
        print(f"\n[{pen}] sklearn {SKLEARN_SOLVER[pen]} loop: {t_sk:.2f}s | JAX batched: {t_first:.2f}s first call, ")
        print(f"      {t_jax:.2f}s second call -> speed-up {t_sk / t_jax:.1f}x ({t_sk / t_first:.1f}x incl. compile)")
        worst = ATTRIBUTES[int(np.argmax(np.abs(diff)))]
        print(f"      mean held-out accuracy: sklearn {100 * np.mean(sk_acc):.2f}%, JAX {100 * np.mean(jx_acc):.2f}%")
        print(f"      largest |difference| {np.abs(diff).max():.2f} points ({worst})")
        for a, s, j in zip(ATTRIBUTES, sk_acc, jx_acc):
            print(f"        {a:15s} sklearn {100 * s:6.2f}  jax {100 * j:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
