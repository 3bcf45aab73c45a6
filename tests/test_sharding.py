"""Sharding helpers (padding, padded chunks) and multi-device runs (fake CPU devices in a subprocess)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import DATA, cpu_env
from hypothesis import given, settings
from hypothesis import strategies as st

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
    env = cpu_env(4)
    out = tmp_path / "out.npz"
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(pkl), str(out)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    from conftest import load_cached

    G = load_cached(pkl)
    z = np.random.RandomState(0).randn(6, G.config.z_dim).astype(np.float32)
    got = np.load(out)
    np.testing.assert_allclose(got["ws"], G.mapping(z, 0.7), atol=1e-5)
    np.testing.assert_allclose(got["img"], G.synthesis(G.mapping(z, 0.7)), atol=1e-4)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 9), pad=st.integers(0, 5), axis=st.integers(0, 1), use_jax=st.booleans())
def test_pad_rows_appends_copies_of_the_last_entry_or_a_value(n, pad, axis, use_jax):
    import jax.numpy as jnp

    from latentjax.sharding import pad_rows

    a = np.arange(n * 3, dtype=np.float32).reshape((n, 3) if axis == 0 else (3, n))
    x = jnp.asarray(a) if use_jax else a
    got = np.asarray(pad_rows(x, pad, axis=axis))
    last = np.take(a, [a.shape[axis] - 1], axis=axis)
    assert got.shape[axis] == a.shape[axis] + pad
    np.testing.assert_array_equal(np.take(got, range(a.shape[axis]), axis=axis), a)
    for i in range(a.shape[axis], got.shape[axis]):
        np.testing.assert_array_equal(np.take(got, [i], axis=axis), last)
    filled = np.asarray(pad_rows(x, pad, axis=axis, value=-7))
    assert (np.take(filled, range(a.shape[axis], filled.shape[axis]), axis=axis) == -7).all()


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 20), batch=st.integers(1, 8))
def test_iter_padded_chunks_have_one_shape_and_rebuild_the_input(n, batch):
    from latentjax.sharding import iter_padded

    x = np.random.RandomState(n).randn(n, 2)
    chunks = list(iter_padded(x, batch))
    assert all(c.shape == (batch, 2) for _, c in chunks)
    np.testing.assert_array_equal(np.concatenate([c[:k] for k, c in chunks]), x)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 20), batch=st.integers(1, 8))
def test_map_batches_sees_one_shape_and_returns_the_real_rows(n, batch):
    from latentjax.sharding import map_batches

    x = np.random.RandomState(n).randn(n, 3)
    shapes = set()

    def fn(chunk):
        shapes.add(chunk.shape)
        return chunk[:, :2] * 2

    np.testing.assert_array_equal(map_batches(fn, x, batch), x[:, :2] * 2)
    assert shapes == {(batch, 3)}


SEPARABILITY = textwrap.dedent(
    """
    import sys, numpy as np, jax
    from latentjax.metrics.separability import linear_separability
    rng = np.random.RandomState(0)
    x = rng.randn(301, 16)  # 301 rows: 3 devices get padding rows, which must change nothing
    p = 1 / (1 + np.exp(-(x[:, :3] @ rng.randn(3, 3) + 2 * rng.randn(301, 3))))
    r = linear_separability(x, p, engine="jax")
    np.save(sys.argv[1], np.array([jax.local_device_count(), r.score, *r.per_attribute]))
    """
)


def test_jax_separability_on_three_devices_matches_one(tmp_path):
    got = {}
    for n_dev in (1, 3):
        env = cpu_env(n_dev)
        out = tmp_path / f"{n_dev}.npy"
        r = subprocess.run([sys.executable, "-c", SEPARABILITY, str(out)], env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-3000:]
        got[n_dev] = np.load(out)
    assert got[1][0] == 1 and got[3][0] == 3
    assert 1.0 < got[1][1] < 20.0  # noisy labels: a real score, not the separable 1.0
    np.testing.assert_allclose(got[3][1:], got[1][1:], rtol=1e-6)
