"""Paper 002 (W*): RealNVP bijection, its losses, resumable training, save/load and W* edits."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latentjax.errors import LoadError
from latentjax.flow import (
    FlowConfig,
    FlowLossConfig,
    FlowTrainConfig,
    attribute_loss,
    attribute_preservation_loss,
    batch_indices,
    edit_wstar,
    fit_wstar_normals,
    flatten_ws,
    flow_loss,
    forward,
    from_wstar,
    init_flow,
    inverse,
    large_margin_loss,
    load_flow,
    save_flow,
    to_wstar,
    train_flow,
    unflatten_ws,
)
from latentjax.flow import train as flow_train

# Few distinct configs: each costs an XLA compile (Flax's per-parameter threefry keys dominate on CPU).
CFG = FlowConfig(dim=8, num_couplings=4, hidden=16)  # W+ with num_ws = 2, w_dim = 4, or W-only with w_dim = 8
CFG_HALVES = dataclasses.replace(CFG, mask="halves")
FAST = FlowTrainConfig(steps=6, batch_size=8, checkpoint_every=3, seed=3)


def perturbed(params: dict, seed: int, scale: float = 0.3) -> dict:
    """Add N(0, scale) to every parameter: init zeroes the last layers, which would make T = id.
    (numpy's generator: no per-leaf threefry compile.)"""
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda a: jnp.asarray(a + scale * rng.normal(size=a.shape).astype(np.float32)), params)


def toy_problem(n: int = 64, dim: int = 8, attrs: int = 3, seed: int = 0):
    """Separable labels y_a = [w . u_a > 0] and weak fixed classifiers along u_a (perfect sign, low confidence)."""
    rng = np.random.default_rng(seed)
    ws = rng.normal(size=(n, dim)).astype(np.float32)
    u = rng.normal(size=(attrs, dim)).astype(np.float32)
    labels = ws @ u.T > 0
    return ws, labels, 0.2 * u, np.zeros(attrs, np.float32)


def _forward_np(params, x, cfg=CFG):
    return np.asarray(forward(params, jnp.asarray(x, jnp.float32), cfg=cfg)[0])


# ---- the bijection ----------------------------------------------------------------------------------


@pytest.mark.slow  # ~8 s of CPU (2026-12-02)
def test_identity_at_init_and_flatten_helpers():
    ws = jax.random.normal(jax.random.key(1), (5, 2, 4))
    x = flatten_ws(ws)
    assert x.shape == (5, 8)
    np.testing.assert_array_equal(np.asarray(unflatten_ws(x, 2)), np.asarray(ws))
    for cfg in (CFG, CFG_HALVES):
        params = init_flow(cfg, jax.random.key(0))
        y, ld = forward(params, x, cfg=cfg)
        np.testing.assert_array_equal(np.asarray(y), np.asarray(x))
        np.testing.assert_array_equal(np.asarray(ld), np.zeros(5, np.float32))
        np.testing.assert_array_equal(np.asarray(inverse(params, x, cfg=cfg)[0]), np.asarray(x))
        np.testing.assert_array_equal(np.asarray(to_wstar(params, ws, cfg=cfg)), np.asarray(ws))  # W+ [N, 2, 4]
        np.testing.assert_array_equal(np.asarray(to_wstar(params, x, cfg=cfg)), np.asarray(x))  # W-only [N, w_dim=8]


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**16), cfg=st.sampled_from([CFG, CFG_HALVES]), scale=st.floats(1.0, 3.0))
@pytest.mark.slow  # ~3 s of CPU (2026-12-02)
def test_inverse_is_exact_for_random_params(seed, cfg, scale):
    # N(0, 0.1) noise on every parameter: T moves points by O(10) (|T(x)| up to ~20). Much larger
    # noise sends |T(x)| towards 100, where one float32 ulp is ~1e-5 and no inverse can do better.
    params = perturbed(init_flow(cfg, jax.random.key(seed)), seed + 1, 0.1)
    x = scale * jax.random.normal(jax.random.key(seed + 2), (9, cfg.dim))
    y, ld = forward(params, x, cfg=cfg)
    assert float(jnp.max(jnp.abs(y - x))) > 1e-2  # really not the identity
    x_back, ld_inv = inverse(params, y, cfg=cfg)
    np.testing.assert_allclose(np.asarray(x_back), np.asarray(x), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(ld_inv), -np.asarray(ld), atol=1e-5)
    y2, _ = forward(params, inverse(params, x, cfg=cfg)[0], cfg=cfg)  # T(T^-1(y)) = y
    np.testing.assert_allclose(np.asarray(y2), np.asarray(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cfg", [CFG, CFG_HALVES], ids=["checkerboard", "halves"])
@pytest.mark.slow  # ~3 s of CPU (2026-12-02)
def test_logdet_matches_jacobian(cfg):
    params = perturbed(init_flow(cfg, jax.random.key(4)), 5, 0.3)
    xs = jax.random.normal(jax.random.key(6), (3, cfg.dim))
    for x in xs:
        jac = jax.jacfwd(lambda v: forward(params, v[None], cfg=cfg)[0][0])(x)
        sign, logabs = np.linalg.slogdet(np.asarray(jac, np.float64))
        assert sign != 0
        ld = float(forward(params, x[None], cfg=cfg)[1][0])
        assert abs(ld) > 1e-2
        np.testing.assert_allclose(ld, logabs, atol=1e-4)


# ---- losses -----------------------------------------------------------------------------------------


def test_attribute_loss_is_bce_sum_over_attributes():
    ws, labels, cw, cb = toy_problem(n=5)
    p = 1 / (1 + np.exp(-(ws.astype(np.float64) @ cw.T + cb)))
    want = -np.mean(np.sum(labels * np.log(p) + (1 - labels) * np.log(1 - p), axis=1))
    got = float(attribute_loss(jnp.asarray(ws), jnp.asarray(labels), jnp.asarray(cw), jnp.asarray(cb)))
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_large_margin_loss_by_hand():
    # one classifier c = (3, 4): d = (0.6, 0.8); w1 = (1, 1), label 1: logit 7 > 0, correct -> -|1.4|;
    # w2 = (1, 0), label 0: logit 3 > 0, wrong -> +|0.6|. Eq. 2 averaged over the 2 samples: (-1.4 + 0.6) / 2.
    w = jnp.array([[1.0, 1.0], [1.0, 0.0]])
    y = jnp.array([[True], [False]])
    cw, cb = jnp.array([[3.0, 4.0]]), jnp.array([0.0])
    np.testing.assert_allclose(float(large_margin_loss(w, y, cw, cb)), -0.4, atol=1e-6)
    # second attribute c = (0, -2), d = (0, -1): w1 label 0, logit -2: correct, -|-1|; w2 label 1, logit 0: wrong, +0
    cw2, cb2 = jnp.array([[3.0, 4.0], [0.0, -2.0]]), jnp.array([0.0, 0.0])
    y2 = jnp.array([[True, False], [False, True]])
    np.testing.assert_allclose(float(large_margin_loss(w, y2, cw2, cb2)), (-1.4 - 1.0 + 0.6 + 0.0) / 2, atol=1e-6)
    # with the bias: distances to C's own hyperplane 3x + 4y - 5 = 0 are (0.4, -0.4); logits 2, -2: both correct
    got = float(large_margin_loss(w, y, cw, jnp.array([-5.0]), use_bias=True))
    np.testing.assert_allclose(got, (-0.4 - 0.4) / 2, atol=1e-6)
    # and through flow_loss at T = id (the same example padded with zeros to D = 8)
    pad = ((0, 0), (0, 6))
    _, parts = flow_loss(
        init_flow(CFG, jax.random.key(0)),
        jnp.pad(w, pad),
        y,
        jnp.pad(cw, pad),
        cb,
        jax.random.key(1),
        cfg=CFG,
        loss_cfg=FlowLossConfig(),
    )
    np.testing.assert_allclose(float(parts["margin"]), -0.4, atol=1e-6)


def test_preservation_zero_for_orthogonal_normals_at_identity():
    params = init_flow(CFG, jax.random.key(0))
    ws, labels, _, _ = toy_problem(n=8)
    cw = jnp.asarray(np.eye(8, dtype=np.float32)[[0, 5, 7]] * np.array([[2.0], [-1.0], [0.5]], np.float32))
    cb = jnp.array([0.1, -0.3, 0.0])
    for seed in range(3):
        _, parts = flow_loss(
            params, ws, labels, cw, cb, jax.random.key(seed), cfg=CFG, loss_cfg=FlowLossConfig(ap_strength=5.0)
        )
        assert float(parts["preservation"]) == 0.0


def test_preservation_by_hand_at_identity():
    # T = id: w_hat = w + alpha d_j, so L_ap = mean_n sum_{i != j} |s(c_i.w + b_i) - s(c_i.(w + alpha_n d_j) + b_i)|
    params = init_flow(CFG, jax.random.key(0))
    ws, _, cw, cb = toy_problem(n=4)
    cb = np.array([0.3, -0.2, 0.1], np.float32)
    alpha = np.array([1.0, -2.0, 0.5, 3.0], np.float32)
    j = 1
    d = cw[j] / np.linalg.norm(cw[j])

    def sig(z):
        return 1 / (1 + np.exp(-z))

    x, xh = ws.astype(np.float64), ws + alpha[:, None] * d
    diff = np.abs(sig(x @ cw.T + cb) - sig(xh @ cw.T + cb))
    want = np.mean(diff[:, [0, 2]].sum(axis=1))
    got = attribute_preservation_loss(
        params,
        jnp.asarray(ws),
        jnp.asarray(ws),
        jnp.asarray(cw),
        jnp.asarray(cb),
        jnp.int32(j),
        jnp.asarray(alpha),
        cfg=CFG,
    )
    assert want > 1e-3
    np.testing.assert_allclose(float(got), want, rtol=1e-5)


@pytest.mark.slow  # ~5 s of CPU (2026-12-02)
def test_training_lowers_attribute_loss_and_stays_invertible():
    ws, labels, cw, cb = toy_problem(n=64)
    tcfg = dataclasses.replace(FAST, steps=40, learning_rate=3e-3)
    params, hist = train_flow(ws, labels, cw, cb, CFG, tcfg)
    assert hist["total"].shape == (40,) and np.all(np.isfinite(hist["total"]))

    def l_a(p):
        return float(attribute_loss(to_wstar(p, ws, cfg=CFG), jnp.asarray(labels), jnp.asarray(cw), jnp.asarray(cb)))

    before, after = l_a(init_flow(CFG, jax.random.key(0))), l_a(params)
    assert after < 0.9 * before, (before, after)
    x = jnp.asarray(ws)
    np.testing.assert_allclose(np.asarray(from_wstar(params, to_wstar(params, x, cfg=CFG), cfg=CFG)), ws, atol=1e-5)


# ---- training: determinism, checkpoints, save/load --------------------------------------------------


def test_batch_indices_depend_only_on_seed_and_step():
    a = [batch_indices(7, k, 10, 4) for k in range(5)]
    b = [batch_indices(7, k, 10, 4) for k in range(5)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    flat = np.concatenate(a)
    assert sorted(flat[:10]) == list(range(10))  # the first epoch is a permutation
    assert not np.array_equal(batch_indices(8, 0, 10, 4), a[0])


@pytest.mark.slow  # ~4 s of CPU (2026-12-02)
def test_resume_gives_identical_params(tmp_path, monkeypatch):
    ws, labels, cw, cb = toy_problem(n=20)
    straight, hist = train_flow(ws, labels, cw, cb, CFG, FAST)
    half = dataclasses.replace(FAST, steps=3)
    train_flow(ws, labels, cw, cb, CFG, half, ckpt_dir=tmp_path / "ck")  # "killed" after step 3
    resumed, hist2 = train_flow(ws, labels, cw, cb, CFG, FAST, ckpt_dir=tmp_path / "ck")
    for a, b in zip(jax.tree.leaves(straight), jax.tree.leaves(resumed)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    for k in hist:
        np.testing.assert_array_equal(hist[k], hist2[k])
    # killed mid-run (during step 5, after the step-3 checkpoint), then resumed
    real_step, calls = flow_train.train_step, []

    def dying_step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    monkeypatch.setattr(flow_train, "train_step", dying_step)
    with pytest.raises(KeyboardInterrupt):
        train_flow(ws, labels, cw, cb, CFG, FAST, ckpt_dir=tmp_path / "killed")
    monkeypatch.setattr(flow_train, "train_step", real_step)
    resumed, _ = train_flow(ws, labels, cw, cb, CFG, FAST, ckpt_dir=tmp_path / "killed")
    for a, b in zip(jax.tree.leaves(straight), jax.tree.leaves(resumed)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # a checkpoint of another run is refused, not silently resumed
    with pytest.raises(ValueError, match="different training config"):
        train_flow(ws, labels, cw, cb, CFG, dataclasses.replace(FAST, lambda_ap=0.5), ckpt_dir=tmp_path / "ck")
    with pytest.raises(ValueError, match="different data"):
        train_flow(ws + 1, labels, cw, cb, CFG, FAST, ckpt_dir=tmp_path / "ck")


def test_save_load_round_trip(tmp_path):
    _, _, cw, cb = toy_problem()
    params = perturbed(init_flow(CFG, jax.random.key(0)), 1)
    normals = np.random.default_rng(0).normal(size=cw.shape).astype(np.float32)
    out = save_flow(tmp_path / "T", params, CFG, cw, cb, ["smile", "age", "glasses"], normals, meta={"steps": 6})
    m = load_flow(out)
    assert m.cfg == CFG and m.attributes == ("smile", "age", "glasses") and m.meta == {"steps": 6}
    np.testing.assert_array_equal(m.clf_w, cw)
    np.testing.assert_array_equal(m.clf_b, cb)
    np.testing.assert_array_equal(m.normals, normals)
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(m.params)):
        np.testing.assert_array_equal(np.asarray(a), b)
    np.testing.assert_allclose(np.linalg.norm(m.classifier_normals, axis=1), 1.0, rtol=1e-6)
    with pytest.raises(FileExistsError):
        save_flow(out, params, CFG, cw, cb)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "config.json").write_text("{}")
    with pytest.raises(LoadError, match="not a latentjax-flow"):
        load_flow(tmp_path / "junk")


# ---- editing ----------------------------------------------------------------------------------------


def test_edit_wstar():
    ws = jax.random.normal(jax.random.key(0), (4, 2, 4))
    n = jax.random.normal(jax.random.key(1), (8,))
    n = n / jnp.linalg.norm(n)
    ident = init_flow(CFG, jax.random.key(2))
    out = edit_wstar(ident, ws, n, 2.5, cfg=CFG)
    assert out.shape == ws.shape
    np.testing.assert_allclose(np.asarray(out), np.asarray(ws + 2.5 * n.reshape(2, 4)), atol=1e-6)
    s = jnp.array([0.0, 1.0, -1.0, 2.0])
    np.testing.assert_allclose(
        np.asarray(edit_wstar(ident, ws, n.reshape(2, 4), s, cfg=CFG)),
        np.asarray(ws + s[:, None, None] * n.reshape(2, 4)),
        atol=1e-6,
    )
    params = perturbed(ident, 3)
    np.testing.assert_allclose(np.asarray(edit_wstar(params, ws, n, 0.0, cfg=CFG)), np.asarray(ws), atol=1e-5)
    moved = edit_wstar(params, ws, n, 1.0, cfg=CFG)  # the W* move is exactly strength * n
    np.testing.assert_allclose(
        np.asarray(to_wstar(params, moved, cfg=CFG) - to_wstar(params, ws, cfg=CFG)),
        np.broadcast_to(np.asarray(n.reshape(2, 4)), ws.shape),
        atol=1e-5,
    )


def test_fit_wstar_normals_unit_and_signed():
    ws, labels, _, _ = toy_problem(n=200)
    normals = fit_wstar_normals(init_flow(CFG, jax.random.key(0)), ws, labels.astype(np.float32), cfg=CFG, fraction=0.5)
    assert normals.shape == (3, 8)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, rtol=1e-5)
    proj = ws @ normals.T
    assert np.all(proj[labels].mean() > proj[~labels].mean())


# ---- bad inputs -------------------------------------------------------------------------------------


def test_bad_inputs_have_clear_messages():
    params = init_flow(CFG, jax.random.key(0))
    ws, labels, cw, cb = toy_problem(n=8)
    with pytest.raises(ValueError, match=r"x must be \[N, 8\]"):
        forward(params, jnp.zeros((2, 10)), cfg=CFG)
    with pytest.raises(ValueError, match=r"ws must be \[N, 8\]"):
        to_wstar(params, jnp.zeros((2, 3, 4)), cfg=CFG)
    bad = ws.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="ws contains NaN"):
        train_flow(bad, labels, cw, cb, CFG, FAST)
    with pytest.raises(ValueError, match="labels must be"):
        train_flow(ws, labels[:5], cw, cb, CFG, FAST)
    with pytest.raises(ValueError, match="3 attributes but there are 2 classifiers"):
        train_flow(ws, labels, cw[:2], cb[:2], CFG, FAST)
    with pytest.raises(ValueError, match=r"clf_w must be \[A, D\]"):
        flow_loss(params, ws, labels, cw[:, :5], cb, jax.random.key(0), cfg=CFG, loss_cfg=FlowLossConfig())
    with pytest.raises(ValueError, match="clf_b contains NaN"):
        flow_loss(params, ws, labels, cw, cb * np.nan, jax.random.key(0), cfg=CFG, loss_cfg=FlowLossConfig())
    with pytest.raises(ValueError, match="normal must be"):
        edit_wstar(params, ws, jnp.ones(5), 1.0, cfg=CFG)
    with pytest.raises(ValueError, match="strength contains NaN"):
        edit_wstar(params, ws, jnp.ones(8), float("nan"), cfg=CFG)
    with pytest.raises(ValueError, match="mask must be one of"):
        FlowConfig(dim=8, mask="random")
    with pytest.raises(ValueError, match="lambda_lm"):
        FlowLossConfig(lambda_lm=-1.0)
