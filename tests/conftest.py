"""Shared fixtures. Generators are loaded once per session (XLA compiles are the cost on CPU)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

# XLA:CPU compiles are most of this suite's time (thousands of tiny programs, each run a few times),
# and most of a compile is LLVM optimising code whose run time is negligible at test sizes: level 0
# cut the CPU time of test_generator + test_noise_edit by 46% and of test_projector + test_golden +
# test_stylegan3 (more run time) by 17% (2026-12-03), every parity test passing unchanged (no
# fast-math at any level). Set before jax starts its backend; subprocess tests pass it on (`cpu_env`).
FAST_COMPILE = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {FAST_COMPILE}".strip()

# One persistent XLA compilation cache for the whole run: both xdist workers and every CLI/script
# subprocess (they inherit the environment) compile the same generator and projection programs
# again and again; a hit skips the compile (a 3-step `project` subprocess: 19 -> 9 CPU-s warm).
# Created empty by the controlling process, removed at its end; set JAX_COMPILATION_CACHE_DIR to
# keep one across runs instead (it is then left alone).
_OWN_XLA_CACHE = "JAX_COMPILATION_CACHE_DIR" not in os.environ and "PYTEST_XDIST_WORKER" not in os.environ
if _OWN_XLA_CACHE:
    import tempfile

    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="latentjax-xla-cache-")
# JAX caches only compiles over 1 s by default; most here are shorter but add up.
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")

import jax  # noqa: E402
import pytest  # noqa: E402

# Strict dtype promotion, as equinox's test setup: silent float64/int promotions are bugs here.
jax.config.update("jax_numpy_dtype_promotion", "strict")

DATA = Path(__file__).parent / "data"

SHARED = Path(os.environ.get("LATENTJAX_GOLDEN", Path(__file__).resolve().parents[2] / "shared" / "golden"))

# Every XLA:CPU executable keeps a few memory mappings until its jit cache entry goes; a full run
# compiles tens of thousands (hypothesis varies shapes), and at Linux's default vm.max_map_count
# (65530) the next compile dies with SIGSEGV/SIGABRT inside XLA. Drop the compile caches whenever
# the process nears the limit (session fixtures simply recompile once afterwards).
_MAPS = Path("/proc/self/maps")
_MAP_LIMIT = Path("/proc/sys/vm/max_map_count")


def _mapping_count() -> int:
    with _MAPS.open("rb") as f:
        return sum(1 for _ in f)


# The most expensive files first (CPU-s per file, profiled 2026-12-03): xdist's loadfile hands out
# whole files in collection order, so an expensive file collected last (alphabetically
# test_toyfaces_models, ~6 CPU-min) leaves the other worker idle at the end.
HEAVY_FIRST = (
    "test_reports.py",
    "test_toyfaces_models.py",
    "test_projector.py",
    "test_invert.py",
    "test_ops.py",
    "test_stylegan3.py",
    "test_stylegan3_projector.py",
    "test_distributed_procs.py",
    "test_latent_toolkit_toyfaces.py",
    "test_stylegan3_ops.py",
    "test_wstar_report.py",
    "test_toyfaces_sg3.py",
)


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(HEAVY_FIRST)))  # stable: the rest as collected


def pytest_unconfigure(config):
    if _OWN_XLA_CACHE:
        import shutil

        shutil.rmtree(os.environ["JAX_COMPILATION_CACHE_DIR"], ignore_errors=True)


@pytest.fixture(autouse=True)
def _bounded_compile_caches():
    yield
    if _MAPS.exists() and _MAP_LIMIT.exists():
        if _mapping_count() > int(_MAP_LIMIT.read_text()) // 2:
            import gc

            jax.clear_caches()
            gc.collect()


# (name, pickle, kind); kind: "sg1" (case files) or "sg2" (one npz of outputs)
GOLDEN = [
    ("sg1_r64_fused", DATA / "stylegan/r64_fused/network.pkl", "sg1"),
    ("sg2_r32_z64_m8", DATA / "stylegan2/sg2_r32_z64_m8.pkl", "sg2"),
    ("sg2ada_r32_z64_m8", DATA / "stylegan2-ada/sg2ada_r32_z64_m8.pkl", "sg2"),
    ("sg1_r32", SHARED / "stylegan/r32/network.pkl", "sg1"),
    ("sg2_r32_z512_m2", SHARED / "stylegan2/sg2_r32_z512_m2.pkl", "sg2"),
]


def golden_outputs(name: str, pkl: Path) -> Path:
    """Where the official outputs of a golden pickle live (a folder for v1, an .npz for v2)."""
    if name.startswith("sg1"):
        return pkl.parent
    return DATA / "stylegan2/sg2_r32_z64_m8.npz" if "z64" in name else pkl.with_suffix(".npz")


def golden_params():
    """pytest params for every golden config, skipping (with reason) the shared-only ones when absent."""
    out = []
    for name, pkl, kind in GOLDEN:
        marks = [pytest.mark.skipif(not pkl.exists(), reason=f"{pkl} not present (large fixture in ../shared)")]
        out.append(pytest.param((name, pkl, kind), id=name, marks=marks))
    return out


def load_script(name: str):
    """scripts/NAME.py as a module (scripts are not a package), for end-to-end tests of their main()."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cpu_env(devices: int) -> dict[str, str]:
    """Environment for a fresh interpreter with `devices` fake CPU devices and the suite's compile flags."""
    flags = f"--xla_force_host_platform_device_count={devices} {FAST_COMPILE}"
    return {**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu"}


_cache: dict = {}


def load_cached(pkl: Path):
    from latentjax import load_generator

    if pkl not in _cache:
        _cache[pkl] = load_generator(pkl)
    return _cache[pkl]


@functools.partial(jax.jit, static_argnums=1)  # one compile instead of one per parameter shape
def perturbed(variables: dict, seed: int) -> dict:
    """Add N(0, 0.3) to every parameter: NVIDIA's init zeroes noise weights and biases, which
    would hide whole code paths from the tests."""
    leaves, tree = jax.tree_util.tree_flatten(variables["params"])
    keys = jax.random.split(jax.random.key(seed), len(leaves))
    noisy = [a + 0.3 * jax.random.normal(k, a.shape) for a, k in zip(leaves, keys)]
    return {**variables, "params": jax.tree_util.tree_unflatten(tree, noisy)}


def small_sg3t(resolution: int, seed: int, channel_base: int):
    """A fresh SG3-T with 4 layers + ToRGB at `resolution`, laid out by `design_stylegan3` (the
    toy's recipe: designed filters, magnitudes calibrated on 32 latents), 16 channels at most."""
    from latentjax import Generator
    from latentjax.nets.network import init_variables
    from latentjax.nets.stylegan3_design import calibrate_magnitudes, design_stylegan3, with_filters

    cfg, filters = design_stylegan3(
        resolution, z_dim=16, w_dim=16, channel_base=channel_base, channel_max=16, num_layers=4, num_critical=2,
        margin_size=4, mapping_layers=2, mapping_fmaps=16,
    )  # fmt: skip
    key = jax.random.key(seed)
    G0 = Generator(cfg, with_filters(init_variables(cfg, key), filters))
    z = jax.random.normal(jax.random.fold_in(key, 1), (32, cfg.z_dim))
    return Generator(cfg, calibrate_magnitudes(cfg, G0.variables, G0.mapping(z)))


@pytest.fixture(scope="session")
def tiny_sg2():
    """A tiny randomly initialised StyleGAN2 (16x16) for API tests."""
    from latentjax import Generator, GeneratorConfig
    from latentjax.nets.network import init_variables

    cfg = GeneratorConfig("stylegan2", 16, z_dim=8, w_dim=8, channels=(8, 8, 4), mapping_fmaps=8)
    return Generator(cfg, perturbed(init_variables(cfg, jax.random.key(1)), 1))


@pytest.fixture(scope="session")
def tiny_sg1():
    from latentjax import Generator, GeneratorConfig
    from latentjax.nets.network import init_variables

    cfg = GeneratorConfig("stylegan", 16, z_dim=8, w_dim=8, channels=(8, 8, 4), mapping_fmaps=8, fused_up=(False, True))
    return Generator(cfg, perturbed(init_variables(cfg, jax.random.key(2)), 2))


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory):
    """latentjax studio on toyfaces-sg2, served by uvicorn on a free 127.0.0.1 port in a thread
    (one per test session: the API and browser tests share it). Directions in its folder:
    "tilt" (a unit W vector on all rows), "zshift" (a unit Z vector) and "coarse_pl" (a per-layer
    W+ vector on rows 0-3). Photo inversion runs 3 pixel-MSE steps (the LPIPS path has its own tests).
    Yields a namespace: url, studio, dirs (the directions folder)."""
    import threading
    import time
    import types

    import numpy as np
    import uvicorn

    from latentjax import load_generator
    from latentjax.directions import Direction, save_direction
    from latentjax.projector import ProjectConfig
    from latentjax.studio.app import create_app
    from latentjax.studio.engine import Studio
    from latentjax.studio.server import bind, url_of

    dirs = tmp_path_factory.mktemp("studio") / "directions"
    dirs.mkdir()
    rng = np.random.RandomState(17)
    unit = lambda v: v / np.linalg.norm(v)  # noqa: E731
    save_direction(dirs / "tilt.npz", Direction(unit(rng.randn(128)), "w", None, "test", "tilt"))
    save_direction(dirs / "zshift.npz", Direction(unit(rng.randn(64)), "z", None, "test", "zshift"))
    per_layer = rng.randn(4, 128) / np.sqrt(4 * 128)
    save_direction(dirs / "coarse_pl.npz", Direction(per_layer, "w+", (0, 1, 2, 3), "test", "coarse_pl"))
    (dirs / "notes.npz").write_bytes(b"not a direction")  # skipped with a log line, not fatal

    G = load_generator("toyfaces-sg2")
    config = ProjectConfig(perceptual="none", mse_weight=1.0, w_avg_samples=1000)
    log: list[str] = []
    studio = Studio(G, "toyfaces-sg2", dirs, invert_steps=3, project_config=config, log=log.append)
    studio.warm_up()
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(studio), log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield types.SimpleNamespace(url=url_of(sock).rstrip("/"), studio=studio, dirs=dirs, log=log)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
