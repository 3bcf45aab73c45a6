"""StyleGAN3 synthesis: latentjax vs NVIDIA's official PyTorch code, same CPU, same weights.

The official side (benchmarks/sg3_official_side.py, run in ~/official-venv with OFFICIAL_SRC set;
see ../shared/bench/README.md) builds a random-weight generator with the released widths, writes it
as a snapshot pickle and times G(z). latentjax then loads that pickle (restricted unpickler,
nothing executed) and times the same G(z) (mapping + synthesis, jitted, after one warm-up call), in
a fresh process per case so that its peak RSS is its own. Each case prints the time per batch, the
peak RSS, and, where both ran, the max abs difference of the images and the speed ratio.

    OFFICIAL_SRC=~/src/stylegan3 python benchmarks/sg3.py                 # default cases
    OFFICIAL_SRC=~/src/stylegan3 python benchmarks/sg3.py --cases sg3t:256:1:1
    python benchmarks/sg3.py --ours PKL BATCH REPS [NPZ]                 # one latentjax case

A case is ARCH:RES:BATCH:OFFICIAL_REPS (0 = do not time the official side, only write weights).
Machines differ by 3x: only ratios from one run mean anything; the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OFFICIAL_PY = Path(os.environ.get("OFFICIAL_PY", Path.home() / "official-venv" / "bin" / "python"))
DEFAULT_CASES = ["sg3t:256:1:1", "sg3t:256:8:0", "sg3t:1024:1:0"]


def ours(pkl: str, batch: int, reps: int, npz: str | None) -> dict:
    """Time latentjax on the official pickle in this process; -> dict printed as JSON."""
    import resource
    import time

    sys.path.insert(0, str(ROOT))
    import jax
    import numpy as np

    from latentjax import load_generator

    G = load_generator(pkl)
    ref = np.load(npz) if npz else None
    z = ref["z"] if ref is not None else np.random.RandomState(0).randn(batch, G.config.z_dim).astype(np.float32)
    t = time.perf_counter()
    img = jax.block_until_ready(G(z))
    first = time.perf_counter() - t
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        img = jax.block_until_ready(G(z))
        times.append(time.perf_counter() - t)
    out = {"first_call_s": first, "time_s": min(times) if times else None}
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    if ref is not None and "img" in ref.files:
        out["max_abs_diff_vs_official"] = float(np.abs(np.asarray(img).transpose(0, 3, 1, 2) - ref["img"]).max())
    return out


def run_case(case: str, tmp: Path, reps: int) -> dict:
    arch, res, batch, off_reps = case.split(":")
    prefix = tmp / f"{arch}_{res}_{batch}"
    src = os.environ.get("OFFICIAL_SRC")
    if not src or not OFFICIAL_PY.exists():
        sys.exit(
            "set OFFICIAL_SRC to an NVlabs/stylegan3 checkout and make ~/official-venv (../shared/bench/README.md)"
        )
    cmd = [str(OFFICIAL_PY), str(ROOT / "benchmarks" / "sg3_official_side.py"), arch, res, batch, off_reps, str(prefix)]
    official = json.loads(
        subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    )
    npz = str(prefix) + ".npz"
    cmd = [sys.executable, __file__, "--ours", str(prefix) + ".pkl", batch, str(reps), npz]
    mine = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    row = {"case": case, "official": official, "latentjax": mine}
    if official["time_s"] and mine["time_s"]:
        row["speedup"] = official["time_s"] / mine["time_s"]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", nargs="*", default=DEFAULT_CASES)
    ap.add_argument("--reps", type=int, default=2, help="timed latentjax calls after the warm-up")
    ap.add_argument("--ours", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ours:
        pkl, batch, reps = args.ours[0], int(args.ours[1]), int(args.ours[2])
        print(json.dumps(ours(pkl, batch, reps, args.ours[3] if len(args.ours) > 3 else None)))
        return
    print(f"load average at start: {os.getloadavg()}, cpus: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as d:
        for case in args.cases:
            row = run_case(case, Path(d), args.reps)
            o, m = row["official"], row["latentjax"]
            ot = (
                "not timed" if o["time_s"] is None else f"{o['time_s']:.2f} s/batch, peak RSS {o['peak_rss_gb']:.2f} GB"
            )
            print(f"{case}: official {ot}")
            diff = m.get("max_abs_diff_vs_official")
            print(
                f"{case}: latentjax {m['time_s']:.2f} s/batch (first call {m['first_call_s']:.1f} s), "
                f"peak RSS {m['peak_rss_gb']:.2f} GB" + ("" if diff is None else f", max |img diff| {diff:.2e}")
            )
            if "speedup" in row:
                print(f"{case}: latentjax is {row['speedup']:.2f}x the official speed")
            print(f"  load average now: {os.getloadavg()}")
            print(json.dumps(row))


if __name__ == "__main__":
    main()
