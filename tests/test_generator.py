"""The Generator API: shapes, batch sizes, noise modes, errors, and composition with jax transforms."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax.generator import mapping_fn, synthesis_fn


@pytest.fixture(params=["tiny_sg1", "tiny_sg2"])
def G(request):
    return request.getfixturevalue(request.param)


def z(n, dim=8, seed=0):
    return np.random.RandomState(seed).randn(n, dim).astype(np.float32)


@pytest.mark.parametrize("n", [1, 3, 5])
@pytest.mark.slow  # ~7 s of CPU (2026-12-02)
def test_shapes_for_any_batch_size(G, n):
    ws = G.mapping(z(n))
    assert ws.shape == (n, G.config.num_ws, G.config.w_dim) and ws.dtype == jnp.float32
    img = G.synthesis(ws)
    assert img.shape == (n, 16, 16, 3) and img.dtype == jnp.float32
    assert len(G.noise_shapes) == len(G.config.noise_resolutions)


def test_batch_rows_are_independent(G):
    """Row i of a batch equals generating z[i] alone (no cross-sample leakage)."""
    zz = z(4)
    full = np.asarray(G(zz))
    for i in range(4):
        np.testing.assert_allclose(np.asarray(G(zz[i : i + 1]))[0], full[i], rtol=1e-5, atol=1e-4)


@pytest.mark.slow  # ~3 s of CPU (2026-12-02)
def test_noise_modes(G):
    ws = G.mapping(z(2))
    zeros = [np.zeros(s, np.float32) for s in G.noise_shapes]
    np.testing.assert_array_equal(G.synthesis(ws, "none"), G.synthesis(ws, noise=zeros))
    stored = jax.tree_util.tree_leaves(G.variables["buffers"]["synthesis_network"])
    assert len(stored) == len(G.noise_shapes)
    k = jax.random.key(3)
    a, b = G.synthesis(ws, "random", key=k), G.synthesis(ws, "random", key=k)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, G.synthesis(ws, "random", key=jax.random.key(4)))
    assert not np.allclose(G.synthesis(ws, "random"), G.synthesis(ws, "random"))  # fresh per call
    assert not np.allclose(G.synthesis(ws, "const"), G.synthesis(ws, "none"))


def test_explicit_noise_overrides_per_layer_and_accepts_official_layout(G):
    ws = G.mapping(z(2))
    noise = [np.random.RandomState(i).randn(1, 1, *s).astype(np.float32) for i, s in enumerate(G.noise_shapes)]
    a = G.synthesis(ws, noise=noise)  # NCHW [1,1,H,W] as in the official variables
    b = G.synthesis(ws, noise=[n[0, 0] for n in noise])  # [H, W]
    np.testing.assert_array_equal(a, b)
    partial = [None] * len(noise)
    partial[-1] = np.zeros(G.noise_shapes[-1], np.float32)
    c = G.synthesis(ws, "const", noise=partial)
    assert not np.allclose(c, G.synthesis(ws, "const"))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda G: G.mapping(np.zeros((2, 7), np.float32)), r"z: expected float array \[N, 8\], got float32 \[2, 7\]"),
        (lambda G: G.mapping(np.full((2, 8), np.nan, np.float32)), "NaN"),
        (
            lambda G: G.synthesis(np.zeros((2, 3, 8), np.float32)),
            r"ws: expected float array \[N, \d+, 8\], got .*\[2, 3, 8",
        ),
        (lambda G: G.synthesis(G.mapping(z(1)), "sometimes"), "noise_mode"),
        (lambda G: G.synthesis(G.mapping(z(1)), noise=[None]), "noise: expected a list of"),
        (lambda G: G.synthesis(G.mapping(z(1)), noise=[np.zeros((5, 5))] * len(G.noise_shapes)), r"noise\[0\]"),
    ],
)
def test_bad_input_is_named(G, call, match):
    with pytest.raises(ValueError, match=match):
        call(G)


@pytest.mark.slow  # ~6 s of CPU (2026-12-02)
def test_pure_functions_compose_with_grad_and_vmap(G):
    cfg, v = G.config, G.variables
    ws = G.mapping(z(2))
    noise = [None] * len(G.noise_shapes)

    def loss(ws):
        return jnp.mean(synthesis_fn(v, ws, noise, cfg=cfg) ** 2)

    g = jax.grad(loss)(ws)
    assert g.shape == ws.shape and bool(jnp.all(jnp.isfinite(g))) and float(jnp.abs(g).max()) > 0
    single = jax.vmap(lambda w: synthesis_fn(v, w[None], noise, cfg=cfg)[0])(ws)
    np.testing.assert_allclose(single, synthesis_fn(v, ws, noise, cfg=cfg), atol=1e-5)
    per_psi = jax.vmap(lambda p: mapping_fn(v, jnp.asarray(z(2)), p, cfg.num_ws, cfg=cfg))(jnp.array([0.5, 1.0]))
    np.testing.assert_allclose(per_psi[1], G.mapping(z(2)), atol=1e-6)


def test_truncation_moves_towards_average(G):
    zz = z(6)
    d1 = jnp.linalg.norm(G.mapping(zz) - G.w_avg, axis=-1)
    d05 = jnp.linalg.norm(G.mapping(zz, 0.5) - G.w_avg, axis=-1)
    np.testing.assert_allclose(d05, 0.5 * d1, rtol=1e-4)
