"""Shared fixtures. Generators are loaded once per session (XLA compiles are the cost on CPU)."""

from __future__ import annotations

import os
from pathlib import Path

import jax
import pytest

# Strict dtype promotion, as equinox's test setup: silent float64/int promotions are bugs here.
jax.config.update("jax_numpy_dtype_promotion", "strict")

DATA = Path(__file__).parent / "data"
SHARED = Path(os.environ.get("LATENTJAX_GOLDEN", Path(__file__).resolve().parents[2] / "shared" / "golden"))

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


_cache: dict = {}


def load_cached(pkl: Path):
    from latentjax import load_generator

    if pkl not in _cache:
        _cache[pkl] = load_generator(pkl)
    return _cache[pkl]


def perturbed(variables: dict, seed: int) -> dict:
    """Add N(0, 0.3) to every parameter: NVIDIA's init zeroes noise weights and biases, which
    would hide whole code paths from the tests."""
    leaves, tree = jax.tree_util.tree_flatten(variables["params"])
    keys = jax.random.split(jax.random.key(seed), len(leaves))
    noisy = [a + 0.3 * jax.random.normal(k, a.shape) for a, k in zip(leaves, keys)]
    return {**variables, "params": jax.tree_util.tree_unflatten(tree, noisy)}


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
