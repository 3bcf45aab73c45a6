"""Generation throughput of the full-size StyleGAN / StyleGAN2 generators (random weights).

For every (arch, resolution, batch) case this prints the first-call time (trace + XLA compile
+ one forward), the steady-state throughput (median of `--reps` timed forwards after one
warm-up call), and the achieved GFLOP/s, next to the machine's measured float32 matmul
GFLOP/s ("the physical limit here"). Numbers only: nothing is asserted.

Timed call: ``G.synthesis(G.mapping(z), noise_mode="const")`` through the public `Generator`,
i.e. mapping + synthesis, ended by ``jax.block_until_ready``.

Analytic work count, per image (multiply-accumulates; FLOPs = 2 * MACs):

    MACs = sum_dense   C_in * C_out                      mapping fc0..fc7, and every per-layer
                                                         style affine (w_dim -> C_in, v1: -> 2*C)
         + sum_conv    k * k * C_in * C_out * H * W      every 3x3 conv (k = 3) and ToRGB (k = 1),
                                                         H, W = the layer's OUTPUT resolution
         + sum_demod   k * k * C_in * C_out              StyleGAN2 weight demodulation (per sample)

StyleGAN2's 2x up-sampling convs are counted at their INPUT resolution (9 * C_in * C_out * H_in
* W_in, the official transposed conv's count), which is what this implementation executes (a
stride-2 transposed conv as polyphase sub-kernels, `ops.fir.upsample_conv_polyphase`; the
[1,3,3,1] FIR after it is element-wise work). v1's fused up-sampling conv and its non-fused
path (a conv of the nearest-upsampled map) are counted at the output resolution. Not counted:
element-wise ops (noise, bias, activations, instance norm, modulation scaling, the FIRs), v1's
[1,2,1] blur (9 * C * H * W), StyleGAN2's RGB-skip up-sampling (3 channels) and the truncation:
under 1% of the MACs, though not necessarily of the time (see BENCHMARKS.md).

Budget: before a case runs, its time is estimated from the largest batch already measured for
the same network (compile + (1 + warm-up + reps) forwards at its per-image time); when even the
minimum number of repetitions would exceed ``--max-seconds-per-case`` the case is skipped with a
note, otherwise the repetitions are reduced to fit. The batch-1 case always runs.

Run from the repository root:

    python benchmarks/generate.py                 # default sweep, ~10 min on 2 idle CPU cores
    python benchmarks/generate.py --quick         # StyleGAN2 256x256, batch 1 and 8
    python benchmarks/generate.py --json out.json

Side by side with NVIDIA's official PyTorch generator (set up outside the repository, see
../shared/bench/README.md): with ``--official-src DIR`` every StyleGAN2 case first runs
``official_generate.py sg2 RES BATCH REPS`` in a subprocess (``--official-python``, default
~/official-venv/bin/python) on the same resolution, config-f widths, batch and noise mode
('const'), then times ours, and prints both, the ratio and the load during each side
(/proc/loadavg and the share of the CPUs other processes used). Both sides report the MINIMUM of
their timed calls (the official script's statistic; ours also shows its median):

    python benchmarks/generate.py --quick --batches 8 --official-src ~/src/stylegan2-ada-pytorch
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # allow `python benchmarks/generate.py` without installing
    sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from latentjax.config import GeneratorConfig  # noqa: E402
from latentjax.generator import Generator  # noqa: E402
from latentjax.nets.network import init_variables  # noqa: E402

MIN_REPS = 3
# NVIDIA's timing script (run by the official side's own Python, never imported here)
OFFICIAL_SCRIPT = ROOT.parent / "shared" / "bench" / "official_generate.py"
OFFICIAL_ARCH = {"stylegan2": "sg2"}  # the official script has no StyleGAN v1
WARMUP = 1
_SHARES: list[float] = []  # others' CPU share during every timed call, in order (for the report)
QUIET_WAIT_S = 30.0  # before each case / after a disturbed call, wait up to this long for the CPU to go idle
BUSY_SHARE = 0.10  # a timed call is redone when other processes used more than this share of the cores


# ----------------------------------------------------------------------------- configs


def full_config(arch: str, resolution: int) -> GeneratorConfig:
    """Official full-size widths: StyleGAN2 config-f (fmap_base 16384) or StyleGAN v1 FFHQ (8192)."""
    res = [2**i for i in range(2, resolution.bit_length())]
    if arch == "stylegan2":
        channels = tuple(min(2 * 16384 // r, 512) for r in res)
        return GeneratorConfig(arch="stylegan2", resolution=resolution, z_dim=512, w_dim=512, channels=channels)
    channels = tuple(min(2 * 8192 // r, 512) for r in res)
    fused = tuple(r >= 128 for r in res[1:])
    return GeneratorConfig(
        arch="stylegan", resolution=resolution, z_dim=512, w_dim=512, channels=channels, fused_up=fused
    )


def count_macs(cfg: GeneratorConfig) -> dict[str, int]:
    """Per-image MACs by category (see the module docstring for the formula)."""
    macs = {"mapping": 0, "affine": 0, "conv": 0, "torgb": 0, "demod": 0}
    dims = [cfg.z_dim] + [cfg.mapping_fmaps] * (cfg.mapping_layers - 1) + [cfg.w_dim]
    macs["mapping"] = sum(a * b for a, b in zip(dims[:-1], dims[1:]))
    ch, wd, img = cfg.channels, cfg.w_dim, cfg.img_channels

    def conv(k, cin, cout, res):
        macs["conv"] += k * k * cin * cout * res * res

    if cfg.arch == "stylegan2":

        def layer(cin, cout, res, up=False):  # modulated 3x3 conv; 2x up: transposed conv at res / 2
            macs["affine"] += wd * cin
            macs["demod"] += 9 * cin * cout
            conv(3, cin, cout, res // 2 if up else res)

        def torgb(cin, res):  # modulated 1x1 conv, no demodulation
            macs["affine"] += wd * cin
            macs["torgb"] += cin * img * res * res

        layer(ch[0], ch[0], 4)
        torgb(ch[0], 4)
        for i, res in enumerate(cfg.block_resolutions[1:]):
            layer(ch[i], ch[i + 1], res, up=True)  # conv0 (2x up)
            layer(ch[i + 1], ch[i + 1], res)  # conv1
            torgb(ch[i + 1], res)
    else:

        def style(c):  # AdaIN affine w -> (scale, shift)
            macs["affine"] += wd * 2 * c

        style(ch[0])  # 4x4 const layer: no conv
        conv(3, ch[0], ch[0], 4)
        style(ch[0])
        for i, res in enumerate(cfg.block_resolutions[1:]):
            conv(3, ch[i], ch[i + 1], res)  # conv0_up
            style(ch[i + 1])
            conv(3, ch[i + 1], ch[i + 1], res)  # conv1
            style(ch[i + 1])
        macs["torgb"] += ch[-1] * img * cfg.resolution**2  # only the final ToRGB runs
    macs["total"] = sum(macs.values())
    return macs


# ----------------------------------------------------------------------------- timing


def _busy_cpu_s() -> tuple[float, float]:
    """(CPU seconds used by the whole machine, by this process) so far; machine part from /proc/stat."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    own_s = own.ru_utime + own.ru_stime
    try:
        f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        machine = (f[0] + f[1] + f[2] + sum(f[5:8])) / os.sysconf("SC_CLK_TCK")  # all but idle, iowait
    except (OSError, ValueError, IndexError):
        machine = own_s  # unknown: assume nobody else
    return machine, own_s


def _timed(fn) -> tuple[float, float]:
    """(wall seconds of fn(), share of the machine's cores used by OTHER processes meanwhile)."""
    m0, o0 = _busy_cpu_s()
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    wall = time.perf_counter() - t0
    m1, o1 = _busy_cpu_s()
    foreign = max((m1 - m0) - (o1 - o0), 0.0)
    return wall, foreign / (wall * (os.cpu_count() or 1))


def _wait_quiet(limit: float) -> float:
    """Sleep (at most `limit` s) until other processes use <= BUSY_SHARE of the cores over 1 s.
    Returns the seconds waited."""
    t0 = time.perf_counter()
    while True:
        m0, o0 = _busy_cpu_s()
        time.sleep(1.0)
        m1, o1 = _busy_cpu_s()
        share = max((m1 - m0) - (o1 - o0), 0.0) / (os.cpu_count() or 1)
        waited = time.perf_counter() - t0
        if share <= BUSY_SHARE or waited >= limit:
            return waited


def _median_time(fn, reps: int, max_retries: int | None = None) -> tuple[float, list[float], list[float], bool]:
    """Median wall time of `reps` calls. A call during which other processes used more than
    BUSY_SHARE of the cores is repeated (at most `max_retries` extra calls, default reps); the
    median is over the clean calls if there are `reps` of them, else over all calls (flag True).
    Returns (median, calls used, disturbed calls, flag)."""
    max_retries = reps if max_retries is None else max_retries
    clean, noisy = [], []
    while len(clean) < reps and len(noisy) <= max_retries:
        wall, share = _timed(fn)
        _SHARES.append(share)
        (clean if share <= BUSY_SHARE else noisy).append(wall)
        if share > BUSY_SHARE:
            _wait_quiet(QUIET_WAIT_S)
    disturbed = len(clean) < reps
    times = clean + noisy if disturbed else clean
    return statistics.median(times), times, noisy, disturbed


def matmul_peak(n: int = 2048, reps: int = 10) -> dict:
    """Median GFLOP/s of a jitted float32 [n, n] @ [n, n] (2 n^3 FLOPs)."""
    k1, k2 = jax.random.split(jax.random.key(1))
    a = jax.random.normal(k1, (n, n), jnp.float32)
    b = jax.random.normal(k2, (n, n), jnp.float32)
    mm = jax.jit(jnp.matmul)
    jax.block_until_ready(mm(a, b))
    jax.block_until_ready(mm(a, b))
    _wait_quiet(QUIET_WAIT_S)
    med, times, _, _ = _median_time(lambda: mm(a, b), reps)
    flops = 2 * n**3
    return {"n": n, "seconds": med, "gflops": flops / med / 1e9, "best_gflops": flops / min(times) / 1e9}


def bench_case(G: Generator, batch: int, reps: int, flops_per_image: int, max_retries: int | None = None) -> dict:
    z = np.random.RandomState(batch).randn(batch, G.config.z_dim).astype(np.float32)

    def forward():
        return G.synthesis(G.mapping(z, truncation_psi=1.0), noise_mode="const")

    waited = _wait_quiet(QUIET_WAIT_S)
    first, first_busy = _timed(forward)
    for _ in range(WARMUP):
        jax.block_until_ready(forward())
    start = len(_SHARES)
    med, times, noisy, disturbed = _median_time(forward, reps, max_retries)
    shares = _SHARES[start:]
    return {
        "batch": batch,
        "reps": reps,
        "first_call_s": first,
        "compile_s": max(first - med, 0.0),  # first call minus one steady-state forward
        "batch_s": med,
        "batch_s_min": min(times),
        "batch_s_all": times,
        "s_per_image": med / batch,
        "images_per_s": batch / med,
        "gflops": flops_per_image * batch / med / 1e9,
        "first_call_foreign_cpu_share": first_busy,
        "noisy_reps_s": noisy,  # calls redone because other processes were busy
        "median_includes_noisy": disturbed,
        "waited_for_quiet_s": waited,
        "foreign_cpu_share_mean": sum(shares) / len(shares),  # others' share of the CPUs, timed calls
    }


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def run_official(python: str, src: str, script: Path, arch: str, res: int, batch: int, reps: int) -> dict:
    """Time the official generator in a subprocess (its own interpreter and torch).

    Returns its s/batch (min of `reps` after a warm-up, as the official script reports it), peak
    RSS, wall time of the whole subprocess, the load average before, and the share of the CPUs
    used meanwhile by processes other than this one and the subprocess."""
    cmd = [python, str(script), OFFICIAL_ARCH[arch], str(res), str(batch), str(reps)]
    load = _loadavg()
    m0, o0 = _busy_cpu_s()
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env={**os.environ, "OFFICIAL_SRC": src}, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    m1, o1 = _busy_cpu_s()
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
    foreign = max((m1 - m0) - (o1 - o0) - child, 0.0) / (wall * (os.cpu_count() or 1))
    line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    m = re.search(r"([0-9.]+) s/batch.*peak RSS ([0-9.]+) GB", line)
    if proc.returncode != 0 or m is None:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"official side failed ({' '.join(cmd)}): {tail}")
    return {
        "command": cmd,
        "batch_s": float(m.group(1)),
        "peak_rss_gb": float(m.group(2)),
        "reps": reps,
        "subprocess_wall_s": wall,
        "loadavg_before": load,
        "foreign_cpu_share": foreign,
        "line": line,
    }


# ----------------------------------------------------------------------------- main


def _ints(s: str) -> list[int]:
    return [int(x) for x in s.split(",") if x]


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--archs", default=None, help="comma list (default stylegan,stylegan2)")
    ap.add_argument("--resolutions", type=_ints, default=None, help="comma list (default 256,1024)")
    ap.add_argument("--batches", type=_ints, default=None, help="comma list (default 1,8,32)")
    ap.add_argument("--reps", type=int, default=None, help="timed repetitions per case (default 5)")
    ap.add_argument("--max-seconds-per-case", type=float, default=180.0, help="skip/shorten cases above this")
    ap.add_argument("--quick", action="store_true", help="stylegan2 256x256, batch 1 and 8, 3 reps")
    ap.add_argument("--matmul-n", type=int, default=2048)
    ap.add_argument("--json", metavar="OUT", default=None, help="write all results to this JSON file")
    ap.add_argument(
        "--official-src", metavar="DIR", default=None, help="NVIDIA's stylegan2-ada-pytorch tree: time it side by side"
    )
    ap.add_argument(
        "--official-python",
        metavar="PY",
        default=str(Path("~/official-venv/bin/python").expanduser()),
        help="interpreter with torch for the official side (default: %(default)s)",
    )
    ap.add_argument("--official-script", metavar="PY", default=str(OFFICIAL_SCRIPT), help="default: %(default)s")
    ap.add_argument("--official-reps", type=int, default=2, help="official timed calls after its warm-up (default 2)")
    args = ap.parse_args(argv)
    if args.official_src is not None:
        for what, path in (
            ("--official-src", args.official_src),
            ("--official-python", args.official_python),
            ("--official-script", args.official_script),
        ):
            if not Path(path).exists():
                ap.error(f"{what} {path} does not exist (see ../shared/bench/README.md to set up the official side)")

    q = args.quick
    archs = (args.archs or ("stylegan2" if q else "stylegan,stylegan2")).split(",")
    resolutions = args.resolutions or ([256] if q else [256, 1024])
    batches = sorted(set(args.batches or ([1, 8] if q else [1, 8, 32])))
    reps = args.reps or (3 if q else 5)
    budget = args.max_seconds_per_case

    info = {
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "argv": sys.argv[1:] if argv is None else argv,
    }
    print(f"jax {info['jax']} ({info['backend']}, {len(info['devices'])} device(s)), {info['cpu_count']} cores")
    print(f"CPU: {info['cpu_model']}")

    mm = matmul_peak(args.matmul_n)
    print(
        f"float32 matmul {mm['n']}x{mm['n']} (jit, median of 10): {mm['gflops']:.1f} GFLOP/s"
        f"  <- the physical limit here (best {mm['best_gflops']:.1f})\n"
    )

    results, skipped, comparisons = [], [], []
    hdr = (
        f"{'arch':<9} {'res':>5} {'batch':>5} {'GFLOP/img':>9} {'1st call s':>10} {'compile s':>9} "
        f"{'s/batch':>8} {'s/image':>8} {'img/s':>7} {'GFLOP/s':>8} {'% mm':>5} {'reps':>4} {'redo':>4}"
    )
    for arch in archs:
        for res in resolutions:
            cfg = full_config(arch, res)
            macs = count_macs(cfg)
            flops = 2 * macs["total"]
            t0 = time.perf_counter()
            variables = jax.block_until_ready(jax.jit(init_variables, static_argnums=0)(cfg, jax.random.key(0)))
            G = Generator(cfg, variables)
            print(
                f"== {arch} {res}x{res}: {G.num_params / 1e6:.1f} M params, {flops / 1e9:.1f} GFLOP/image "
                f"(conv {macs['conv'] / macs['total']:.1%}), init {time.perf_counter() - t0:.1f} s"
            )
            print(hdr)
            ref = None  # largest measured case of this network
            for b in batches:
                n_reps, retries = reps, reps
                if ref is not None:
                    per_call = ref["s_per_image"] * b
                    fixed = ref["compile_s"] * max(1.0, b / ref["batch"]) ** 0.5 + (1 + WARMUP) * per_call
                    fit = int((budget - fixed) // per_call)
                    if fit < MIN_REPS:
                        est = fixed + MIN_REPS * per_call
                        note = f"skipped: estimated {est:.0f} s > budget {budget:.0f} s (--max-seconds-per-case)"
                        print(f"{arch:<9} {res:>5} {b:>5}  {note}")
                        skipped.append({"arch": arch, "resolution": res, "batch": b, "estimated_s": est})
                        continue
                    n_reps = min(reps, fit)
                    retries = min(reps, fit - n_reps)
                official = None
                if args.official_src is not None and arch in OFFICIAL_ARCH:
                    # right before ours, same resolution / widths / batch / noise mode
                    official = run_official(
                        args.official_python,
                        args.official_src,
                        Path(args.official_script),
                        arch,
                        res,
                        b,
                        args.official_reps,
                    )
                load_ours = _loadavg()
                r = bench_case(G, b, n_reps, flops, retries)
                r["loadavg_before"] = load_ours
                r["official"] = official
                r.update(arch=arch, resolution=res, gflop_per_image=flops / 1e9, macs_per_image=macs)
                r["fraction_of_matmul"] = r["gflops"] / mm["gflops"]
                results.append(r)
                ref = r
                print(
                    f"{arch:<9} {res:>5} {b:>5} {flops / 1e9:>9.1f} {r['first_call_s']:>10.1f} {r['compile_s']:>9.1f} "
                    f"{r['batch_s']:>8.2f} {r['s_per_image']:>8.3f} {r['images_per_s']:>7.2f} {r['gflops']:>8.1f} "
                    f"{r['fraction_of_matmul']:>5.0%} {n_reps:>4} {len(r['noisy_reps_s']):>4}"
                    + ("  (first call shared the CPU)" if r["first_call_foreign_cpu_share"] > BUSY_SHARE else "")
                    + ("  (median includes disturbed calls)" if r["median_includes_noisy"] else ""),
                    flush=True,
                )
                if official is not None:
                    comparisons.append(_compare(arch, res, b, r, official))
                    print(comparisons[-1]["text"], flush=True)
            del G, variables
            print()

    if comparisons:
        print("side by side with the official generator (same run, same machine):")
        for c in comparisons:
            print("  " + c["text"])
    else:
        print("no official side (--official-src): no speed ratio, only our own times")
    out = {"machine": info, "matmul": mm, "results": results, "skipped": skipped, "comparisons": comparisons}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
        print(f"wrote {args.json}")
    return out


def _compare(arch: str, res: int, batch: int, ours: dict, official: dict) -> dict:
    """Ratio official / ours of the per-batch time, both the minimum of their timed calls."""
    ratio = official["batch_s"] / ours["batch_s_min"]
    text = (
        f"{arch} {res}x{res} batch {batch}: official {official['batch_s']:.2f} s/batch "
        f"(min of {official['reps']}; load {official['loadavg_before']}, others {official['foreign_cpu_share']:.0%} "
        f"of the CPUs), latentjax {ours['batch_s_min']:.2f} s/batch (min of {len(ours['batch_s_all'])}, median "
        f"{ours['batch_s']:.2f}; load {ours['loadavg_before']}, others {ours['foreign_cpu_share_mean']:.0%} "
        f"of the CPUs, {len(ours['noisy_reps_s'])} disturbed calls redone) "
        f"-> {ratio:.2f}x the official throughput"
    )
    return {
        "arch": arch,
        "resolution": res,
        "batch": batch,
        "official_s": official["batch_s"],
        "ours_s": ours["batch_s_min"],
        "ours_median_s": ours["batch_s"],
        "ratio": ratio,
        "text": text,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()
