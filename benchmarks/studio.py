"""Studio latency: slider release -> the new image, over HTTP on 127.0.0.1 (issue targets: <= 200 ms
at 64^2 on toyfaces, warm; <= 2 s at 256^2 with config-f widths, on this CPU).

A studio server runs in-process (uvicorn on a free loopback port, the app `latentjax serve`
runs); each timed request is what the page sends when a direction slider is released: GET
/render.png with a strength never asked before (so no cached PNG), measured from sending the
request to the last byte of the PNG. Also timed: the same render without HTTP (`Studio.render_png`),
to split engine time from server overhead. The browser adds its PNG decode and paint on top
(a few ms at these sizes). Numbers only: nothing is asserted.

    python benchmarks/studio.py                     # both cases, ~3 min on 2 idle cores
    python benchmarks/studio.py --cases toy --reps 50 --json out.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # allow `python benchmarks/studio.py` without installing
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402
import uvicorn  # noqa: E402

from latentjax import load_generator  # noqa: E402
from latentjax.directions import Direction, save_direction  # noqa: E402
from latentjax.generator import Generator  # noqa: E402
from latentjax.nets.network import init_variables  # noqa: E402
from latentjax.studio.app import create_app  # noqa: E402
from latentjax.studio.engine import Studio  # noqa: E402
from latentjax.studio.params import RenderSettings  # noqa: E402
from latentjax.studio.server import bind, url_of  # noqa: E402

TARGETS = {"toy": 0.200, "configf256": 2.0}  # seconds, from the issue


def _generate_bench():
    """benchmarks/generate.py as a module: its config-f widths and /proc/stat CPU accounting."""
    spec = importlib.util.spec_from_file_location("bench_generate", Path(__file__).with_name("generate.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_studio(case: str, tmp: Path) -> Studio:
    """The case's generator and one random unit W direction 'd' saved in `tmp` (any direction costs the same)."""
    if case == "toy":
        G = load_generator("toyfaces-sg2")
    else:
        cfg = _generate_bench().full_config("stylegan2", 256)
        G = Generator(cfg, jax.jit(init_variables, static_argnums=0)(cfg, jax.random.key(0)))
    v = np.random.RandomState(0).randn(G.config.w_dim)
    save_direction(tmp / "d.npz", Direction(v / np.linalg.norm(v), "w", None, "benchmark", "d"))
    return Studio(G, G.config.name or case, tmp)


def serve(studio: Studio):
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(studio), log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return url_of(sock).rstrip("/"), server, thread


def bench_case(case: str, reps: int, tmp: Path) -> dict:
    gen = _generate_bench()
    t = time.perf_counter()
    studio = make_studio(case, tmp)
    build = time.perf_counter() - t
    t = time.perf_counter()
    studio.warm_up()
    warm = time.perf_counter() - t
    url, server, thread = serve(studio)
    cfg = studio.G.config
    http_s, engine_s = [], []
    busy0, own0 = gen._busy_cpu_s()
    wall0 = time.perf_counter()
    with httpx.Client(base_url=url, timeout=120) as client:
        client.get("/render.png", params={"seed": 1, "psi": 0.7, "d": 0.05})  # connection + first-request warm-up
        for i in range(reps):
            strength = round((-1) ** i * (0.1 + 0.013 * i), 4)  # a new slider position every time: no cache hit
            t = time.perf_counter()
            r = client.get("/render.png", params={"seed": 1, "psi": 0.7, "d": strength})
            _ = r.content
            http_s.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
            t = time.perf_counter()
            studio.render_png(RenderSettings(seed=2, psi=0.7, strengths=(("d", strength),)))
            engine_s.append(time.perf_counter() - t)
    wall = time.perf_counter() - wall0
    busy1, own1 = gen._busy_cpu_s()
    server.should_exit = True
    thread.join(10)
    other = max(0.0, (busy1 - busy0) - (own1 - own0)) / (wall * (os.cpu_count() or 1))
    q = statistics.quantiles(http_s, n=10, method="inclusive")
    return {
        "case": case,
        "model": f"{cfg.arch} {cfg.resolution}x{cfg.resolution} ({studio.name}), channels {list(cfg.channels)}",
        "reps": reps,
        "build_s": build,
        "warm_up_s": warm,
        "http_median_s": statistics.median(http_s),
        "http_p90_s": q[-1],
        "http_max_s": max(http_s),
        "engine_median_s": statistics.median(engine_s),
        "target_s": TARGETS[case],
        "other_processes_cpu_share": other,
    }


def main(argv=None) -> list[dict]:
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="toy,configf256", help="toy (64^2 toyfaces-sg2) and/or configf256")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs), jax {jax.__version__}")
    rows = []
    for case in args.cases.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            reps = args.reps if case == "toy" else max(5, args.reps // 3)
            row = bench_case(case, reps, Path(tmp))
        rows.append(row)
        verdict = "met" if row["http_median_s"] <= row["target_s"] else "NOT met"
        print(
            f"{row['model']}: slider release -> PNG over HTTP median {1e3 * row['http_median_s']:.0f} ms, "
            f"p90 {1e3 * row['http_p90_s']:.0f} ms, max {1e3 * row['http_max_s']:.0f} ms "
            f"(engine alone {1e3 * row['engine_median_s']:.0f} ms; {row['reps']} releases); "
            f"target {1e3 * row['target_s']:.0f} ms: {verdict}. "
            f"Build {row['build_s']:.1f} s, compile {row['warm_up_s']:.1f} s; "
            f"other processes used {100 * row['other_processes_cpu_share']:.0f}% of the CPUs meanwhile"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
