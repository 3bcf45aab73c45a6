"""Noise control / stochastic variation (noise.py) and linear edits (edit.py)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latentjax.config import GeneratorConfig
from latentjax.edit import combine, edit, fix_and_resample, fixed_entries, shift, sweep
from latentjax.generator import random_noise
from latentjax.latent import layer_set
from latentjax.noise import noise_for, noise_layers, std_map, stochastic_variation

FAST = settings(max_examples=25, deadline=None)
NUM_WS, W_DIM = 6, 8  # the tiny 16x16 generators of conftest


def arr(seed, *shape):
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def cfg_of(arch, res):
    log2 = res.bit_length() - 1
    return GeneratorConfig(arch, res, z_dim=4, w_dim=4, channels=(4,) * (log2 - 1))


# ---- noise layer groups -------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["stylegan", "stylegan2"])
@pytest.mark.parametrize("res", [4, 16, 64, 1024])
def test_noise_groups_partition_by_resolution(arch, res):
    cfg = cfg_of(arch, res)
    num = len(cfg.noise_resolutions)
    assert noise_layers(cfg, "all") == tuple(range(num)) and noise_layers(cfg, "none") == ()
    # paper 003 Fig. 5 / paper 000 Fig. 9: coarse noise 4^2-32^2, fine noise 64^2+
    fig5_coarse, fig5_fine = set(noise_layers(cfg, ("coarse", "middle"))), set(noise_layers(cfg, "fine"))
    assert not fig5_coarse & fig5_fine and fig5_coarse | fig5_fine == set(range(num))
    assert all(cfg.noise_resolutions[i] <= 32 for i in fig5_coarse)
    assert all(cfg.noise_resolutions[i] >= 64 for i in fig5_fine)
    # the three style bands (same names as layer_set) also partition the noise layers
    bands = [set(noise_layers(cfg, g)) for g in ("coarse", "middle", "fine")]
    assert sum(map(len, bands)) == num and set().union(*bands) == set(range(num))


def test_noise_groups_1024():
    v1, v2 = cfg_of("stylegan", 1024), cfg_of("stylegan2", 1024)
    assert noise_layers(v1, "coarse") == (0, 1, 2, 3) and noise_layers(v1, "fine") == tuple(range(8, 18))
    assert noise_layers(v2, "coarse") == (0, 1, 2) and noise_layers(v2, "middle") == (3, 4, 5, 6)
    assert noise_layers(v2, "fine") == tuple(range(7, 17))


@pytest.mark.parametrize("arch", ["stylegan", "stylegan2"])
@pytest.mark.slow  # ~4 s of CPU (2026-12-02)
def test_noise_for_masks_layers_and_matches_random_mode(arch):
    cfg, key = cfg_of(arch, 32), jax.random.key(3)
    on = noise_layers(cfg, "coarse")
    maps = noise_for(cfg, key, 2, "coarse")
    ref = random_noise(cfg, key, 2)
    assert [m.shape for m in maps] == [(2, r, r) for r in cfg.noise_resolutions]
    for i, (m, r) in enumerate(zip(maps, ref)):
        assert m.dtype == jnp.float32
        np.testing.assert_array_equal(m, r if i in on else jnp.zeros_like(r))
    for m, m_idx in zip(maps, noise_for(cfg, key, 2, on)):  # indices and names agree
        np.testing.assert_array_equal(m, m_idx)
    with pytest.raises(ValueError, match="out of range"):
        noise_for(cfg, key, 1, [len(cfg.noise_resolutions)])


# ---- noise through the generator -----------------------------------------------------------------


@pytest.fixture(scope="module", params=["tiny_sg2", "tiny_sg1"])
def G(request):
    return request.getfixturevalue(request.param)


@pytest.mark.slow  # ~9 s of CPU (2026-12-02)
def test_zero_noise_everywhere_equals_mode_none(G):
    ws = G.mapping(arr(0, 2, G.config.z_dim))
    zeros = noise_for(G.config, jax.random.key(0), 2, "none")
    np.testing.assert_array_equal(G.synthesis(ws, noise=zeros), G.synthesis(ws, noise_mode="none"))


def test_all_noise_equals_mode_random(G):
    ws, key = G.mapping(arr(1, 2, G.config.z_dim)), jax.random.key(7)
    all_on = noise_for(G.config, key, 2, "all")
    np.testing.assert_array_equal(G.synthesis(ws, noise=all_on), G.synthesis(ws, noise_mode="random", key=key))


def test_stochastic_variation(G):
    ws, key, k = G.mapping(arr(2, 2, G.config.z_dim)), jax.random.key(11), 3
    res = G.config.resolution
    imgs, std = stochastic_variation(G, ws, key, k, "none")
    assert imgs.shape == (k, 2, res, res, 3) and std.shape == (2, res, res)
    assert float(jnp.max(std)) == 0.0  # no noise enabled: exactly zero
    for group in ("all", "coarse", noise_layers(G.config, "middle")):
        imgs, std = stochastic_variation(G, ws, key, k, group)
        assert bool(jnp.all(std >= 0)) and float(jnp.max(std)) > 0
    # ws untouched: realisations differ by noise only, and realisation 0 is reproducible
    np.testing.assert_array_equal(
        imgs[0], G.synthesis(ws, noise=noise_for(G.config, jax.random.split(key, k)[0], 2, group))
    )


def test_std_map_matches_numpy():
    imgs = arr(5, 4, 2, 3, 3, 3)
    np.testing.assert_allclose(std_map(imgs), np.asarray(imgs).std(axis=0).mean(-1), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(std_map(jnp.broadcast_to(imgs[:1] * 0.1, imgs.shape)), 0.0)


# ---- edits -------------------------------------------------------------------------------------

ws_case = st.tuples(st.integers(0, 2**31 - 1), st.sampled_from([1, 3]))
strengths = st.floats(-4.0, 4.0, width=32)
layer_choices = st.one_of(
    st.none(),
    st.sampled_from(["coarse", "middle", "fine", "all", ("coarse", "fine")]),
    st.integers(0, NUM_WS),
    st.lists(st.integers(0, NUM_WS - 1), max_size=NUM_WS, unique=True),
)


def rows_of(layers):
    if layers is None:
        return set(range(NUM_WS))
    if isinstance(layers, (str, tuple)):
        return set(layer_set(layers, NUM_WS))
    if isinstance(layers, int):
        return set(range(layers, NUM_WS))
    return set(layers)


@FAST
@given(ws_case, layer_choices, strengths)
def test_edit_touches_only_chosen_layers(case, layers, s):
    seed, n = case
    ws, d = arr(seed, n, NUM_WS, W_DIM), arr(seed + 1, W_DIM)
    out = edit(ws, d, s, layers)
    np.testing.assert_array_equal(edit(ws, d, 0.0, layers), ws)  # strength 0 is the identity
    for i in range(NUM_WS):
        if i in rows_of(layers):
            np.testing.assert_allclose(out[:, i], ws[:, i] + s * d, rtol=0, atol=1e-5)
        else:
            np.testing.assert_array_equal(out[:, i], ws[:, i])


@FAST
@given(ws_case, layer_choices, strengths, strengths)
def test_edit_is_linear(case, layers, a, b):
    seed, n = case
    ws, d = arr(seed, n, NUM_WS, W_DIM), arr(seed + 1, NUM_WS, W_DIM)  # per-layer direction
    twice = edit(edit(ws, d, a, layers), d, b, layers)
    np.testing.assert_allclose(twice, edit(ws, d, a + b, layers), rtol=0, atol=1e-5)


@FAST
@given(ws_case, strengths)
def test_shift_and_per_sample_strength(case, s):
    seed, n = case
    z, d = arr(seed, n, W_DIM), arr(seed + 1, W_DIM)
    np.testing.assert_array_equal(shift(z, d, 0.0), z)
    np.testing.assert_allclose(shift(shift(z, d, s), d, -s), z, atol=1e-5)
    per = jnp.arange(n, dtype=jnp.float32) * s
    out = edit(arr(seed, n, NUM_WS, W_DIM), d, per)
    np.testing.assert_allclose(shift(z, d, per)[n - 1], z[n - 1] + per[n - 1] * d, atol=1e-5)
    np.testing.assert_allclose(out[n - 1], arr(seed, n, NUM_WS, W_DIM)[n - 1] + per[n - 1] * d, atol=1e-5)


def test_sweep_stacks_edits():
    ws, d = arr(0, 2, NUM_WS, W_DIM), arr(1, W_DIM)
    ss = jnp.asarray([-2.0, 0.0, 1.5], jnp.float32)
    out = sweep(ws, d, ss, "coarse")
    assert out.shape == (3, 2, NUM_WS, W_DIM)
    for i in range(3):
        np.testing.assert_allclose(out[i], edit(ws, d, ss[i], "coarse"), atol=1e-6)
    np.testing.assert_array_equal(out[1], ws)


@FAST
@given(st.integers(0, 2**31 - 1), st.floats(0.0, 1.0, width=32), strengths, strengths)
def test_combine_is_paper000_fig11_interpolation(seed, lam, a, b):
    w, d1, d2 = arr(seed, 2, W_DIM), arr(seed + 1, W_DIM), arr(seed + 2, W_DIM)
    interp = lam * shift(w, d1, a) + (1 - lam) * shift(w, d2, b)
    np.testing.assert_allclose(shift(w, combine(jnp.stack([d1, d2]), [lam * a, (1 - lam) * b]), 1.0), interp, atol=1e-4)
    np.testing.assert_array_equal(combine(jnp.stack([d1, d2]), [1.0, 0.0]), d1)


@FAST
@given(st.integers(0, 2**31 - 1), st.integers(0, W_DIM), st.sampled_from([None, 1, 5]))
def test_fix_and_resample(seed, n_fixed, num):
    w, d, pool = arr(seed, W_DIM), arr(seed + 1, W_DIM), arr(seed + 2, 5, W_DIM)
    out = fix_and_resample(w, d, n_fixed, jax.random.key(seed % 1000), pool, num)
    assert out.shape == (5 if num is None else num, W_DIM)
    fixed = np.sort(np.asarray(fixed_entries(d, n_fixed)))
    assert len(set(fixed.tolist())) == n_fixed
    free = np.setdiff1d(np.arange(W_DIM), fixed)
    absd, w_np, pool_np, out_np = (np.asarray(a) for a in (jnp.abs(d), w, pool, out))
    assert not len(free) or not n_fixed or absd[fixed].min() >= absd[free].max()  # the largest |d|
    np.testing.assert_array_equal(out_np[:, fixed], np.broadcast_to(w_np[fixed], (len(out_np), n_fixed)))
    # every other entry comes from one pool row, whole; rows are drawn without replacement
    used = []
    for row in out_np:
        hits = [j for j in range(5) if np.array_equal(pool_np[j, free], row[free])]
        assert hits
        used.append(hits[0])
    if len(free):
        assert len(set(used)) == len(used)


def test_fix_and_resample_rejects_bad_sizes():
    w, pool = arr(0, W_DIM), arr(1, 3, W_DIM)
    with pytest.raises(ValueError, match="pool size"):
        fix_and_resample(w, w, 2, jax.random.key(0), pool, 4)
    with pytest.raises(ValueError, match="n_fixed"):
        fix_and_resample(w, w, W_DIM + 1, jax.random.key(0), pool)
