"""Batched generation shards over all local devices (4 fake CPU devices in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import DATA

SCRIPT = textwrap.dedent(
    """
    import sys, numpy as np, jax
    from latentjax import load_generator
    assert jax.local_device_count() == 4, jax.devices()
    G = load_generator(sys.argv[1])
    z = np.random.RandomState(0).randn(6, G.config.z_dim).astype(np.float32)  # 6: not divisible by 4
    ws = G.mapping(z, 0.7)
    img = G.synthesis(ws)
    # the compiled computation ran on all 4 devices: its (pre-slice) output spans them
    from latentjax.sharding import run_sharded
    from latentjax.generator import synthesis_fn
    raw = run_sharded(lambda v, w, e: synthesis_fn(v, w, e, cfg=G.config), G.variables,
                      np.concatenate([np.asarray(ws), np.asarray(ws[:2])]), [None] * len(G.noise_shapes))
    assert len(raw.sharding.device_set) == 4, raw.sharding
    np.savez(sys.argv[2], ws=np.asarray(ws), img=np.asarray(img))
    """
)


@pytest.mark.slow  # a fresh interpreter compiles the generator for 4 devices
def test_four_device_generation_matches_single_device(tmp_path):
    pkl = DATA / "stylegan2/sg2_r32_z64_m8.pkl"
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    out = tmp_path / "out.npz"
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(pkl), str(out)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    from conftest import load_cached

    G = load_cached(pkl)
    z = np.random.RandomState(0).randn(6, G.config.z_dim).astype(np.float32)
    got = np.load(out)
    np.testing.assert_allclose(got["ws"], G.mapping(z, 0.7), atol=1e-5)
    np.testing.assert_allclose(got["img"], G.synthesis(G.mapping(z, 0.7)), atol=1e-4)
