"""1 vs N local processes (jax.distributed, gloo), one CPU core each: `sample` rows/s and a 200k-row
linear separability sweep.

Every job is a real `latentjax launch -n N -- ...` (fresh interpreters: startup, model load and XLA
compiles are inside the wall times), process i pinned to CPU i. `sample` (toyfaces-sg2 + its
classifier: mapping, synthesis, classification, shard files) runs twice per N, with --n-small and
--n-large rows; rows/s = (n_large - n_small) / (t_large - t_small) is the steady rate with the fixed
costs removed. The separability sweep is `metrics separability --labels exact` at --n-sep rows
(the mapping of every z, then 12 attribute fits on the most confident half, split over processes).
Scores of N processes are compared with 1 process's. Numbers only: nothing is asserted. The load
average (others' jobs) is printed with each measurement; compare ratios within one run.

    python benchmarks/distributed.py                     # 1 and 2 processes, ~10 min on 2 idle cores
    python benchmarks/distributed.py --n-sep 20000 --n-large 768 --json /tmp/dist.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # allow `python benchmarks/distributed.py` without installing
    sys.path.insert(0, str(ROOT))

from latentjax.distributed import launch_local  # noqa: E402

ENV = {
    "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    "XLA_FLAGS": "--xla_force_host_platform_device_count=1",
    "JAX_PLATFORMS": "cpu",
    # Every job compiles from scratch: with the CLI's persistent cache a later job would skip the
    # compiles an earlier one did, and the small/large difference would no longer cancel them.
    "LATENTJAX_COMPILE_CACHE": "off",
}


def load() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def job(argv: list[str], n: int) -> float:
    cpus = sorted(os.sched_getaffinity(0))
    t0 = time.perf_counter()
    codes = launch_local(argv, n, cpus=[[cpus[i % len(cpus)]] for i in range(n)], env=ENV)
    if any(codes):
        raise SystemExit(f"{' '.join(argv[:2])} with {n} processes failed: exit codes {codes}")
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--procs", default="1,2", help="process counts to compare (default: %(default)s)")
    ap.add_argument("--model", default="toyfaces-sg2")
    ap.add_argument("--n-small", type=int, default=256, help="sample rows of the short run")
    ap.add_argument("--n-large", type=int, default=2304, help="sample rows of the long run")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--n-sep", type=int, default=200_000, help="separability rows")
    ap.add_argument("--space", default="w", choices=["z", "w"])
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    procs = [int(p) for p in args.procs.split(",")]
    print(f"CPUs available: {sorted(os.sched_getaffinity(0))}; {load()}", flush=True)

    work = Path(tempfile.mkdtemp(prefix="latentjax-dist-bench-"))
    rows = []
    try:
        for n in procs:
            common = ["sample", "--model", args.model, "--batch", str(args.batch), "--shard-size", str(4 * args.batch)]
            t = {}
            for size in (args.n_small, args.n_large):
                before = load()
                t[size] = job([*common, "--n", str(size), "--out", str(work / f"s{n}-{size}"), "--quiet"], n)
                print(f"sample {size} rows, {n} process(es): {t[size]:.1f} s ({before})", flush=True)
            rate = (args.n_large - args.n_small) / (t[args.n_large] - t[args.n_small])
            out = work / f"sep{n}.json"
            before = load()
            t_sep = job(
                ["metrics", "separability", "--model", args.model, "--labels", "exact", "--n", str(args.n_sep)]
                + ["--space", args.space, "--engine", "jax", "--quiet", "--out", str(out)],
                n,
            )
            score = json.loads(out.read_text())["result"]["score"]
            print(f"separability {args.n_sep} rows, {n} process(es): {t_sep:.1f} s, score {score:.6f} ({before})")
            rows.append({"processes": n, "sample_s": t, "rows_per_s": rate, "separability_s": t_sep, "score": score})
    finally:
        shutil.rmtree(work, ignore_errors=True)

    base = rows[0]
    print(f"\n| processes | sample rows/s (steady) | vs {base['processes']} | separability {args.n_sep} | vs | score |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        rel = abs(r["score"] - base["score"]) / base["score"]
        print(
            f"| {r['processes']} | {r['rows_per_s']:.1f} | {r['rows_per_s'] / base['rows_per_s']:.2f}x "
            f"| {r['separability_s']:.1f} s | {base['separability_s'] / r['separability_s']:.2f}x "
            f"| {r['score']:.6f} (rel. diff {rel:.1e}) |"
        )
    print(load())
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
