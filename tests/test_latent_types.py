"""The latent-space vocabulary and shape rules at the API edge (numpy only: cheap, no compiles)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latentjax.config import GeneratorConfig
from latentjax.errors import InputError
from latentjax.latent import layer_set, resolve_layers
from latentjax.latent_types import MAPPED, SAMPLED, check_space, code_shape, direction_for_ws

shapes = st.tuples(st.integers(1, 5), st.integers(2, 6), st.integers(1, 4))  # (N, num_ws, w_dim)


@settings(max_examples=40, deadline=None)
@given(shapes, st.sampled_from(["one", "per_layer", "per_code_layer"]))
def test_direction_for_ws_broadcasts_the_documented_forms(shape, kind):
    n, num_ws, w_dim = shape
    rng = np.random.RandomState(n * 100 + num_ws * 10 + w_dim)
    ws = rng.randn(*shape)
    d = {"one": rng.randn(w_dim), "per_layer": rng.randn(num_ws, w_dim), "per_code_layer": rng.randn(*shape)}[kind]
    out = ws + direction_for_ws(d, shape)
    # each code's row r moves by its own vector: the same for all (one), per row, or per code and row
    for i in range(n):
        for r in range(num_ws):
            want = d if kind == "one" else d[r] if kind == "per_layer" else d[i, r]
            np.testing.assert_allclose(out[i, r] - ws[i, r], want, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(shapes)
def test_per_code_w_directions_broadcast_only_on_request(shape):
    n, num_ws, w_dim = shape
    d = np.arange(n * w_dim, dtype=np.float64).reshape(n, w_dim)
    out = np.zeros(shape) + direction_for_ws(d, shape, per_code=True)
    for r in range(num_ws):  # code i's vector on every row
        np.testing.assert_array_equal(out[:, r], d)
    if n != num_ws:
        with pytest.raises(ValueError, match="per_code=True"):
            direction_for_ws(d, shape)


def test_direction_for_ws_refusals_name_the_shapes():
    with pytest.raises(ValueError, match="last axis must be 4"):
        direction_for_ws(np.ones(3), (2, 6, 4))
    with pytest.raises(ValueError, match=r"per_code=True needs one direction per code, \[2, 4\]"):
        direction_for_ws(np.ones((3, 4)), (2, 6, 4), per_code=True)
    with pytest.raises(ValueError, match="codes must be W\\+"):
        direction_for_ws(np.ones(4), (2, 4))


def test_edit_per_code_and_its_refusal():
    from latentjax.edit import edit

    rng = np.random.RandomState(0)
    ws, d = rng.randn(3, 6, 4).astype(np.float32), rng.randn(3, 4).astype(np.float32)
    out = np.asarray(edit(ws, d, 2.0, layers="0-1", per_code=True))
    np.testing.assert_allclose(out[:, :2], ws[:, :2] + 2 * d[:, None], atol=1e-6)
    np.testing.assert_array_equal(out[:, 2:], ws[:, 2:])
    with pytest.raises(InputError, match=r"\[3, 4\]; for one W direction per code \[N, w_dim\] pass per_code"):
        edit(ws, d, 1.0)


def test_space_vocabulary():
    cfg = GeneratorConfig(arch="stylegan2", resolution=32, z_dim=8, w_dim=16, channels=(8, 8, 8, 8))
    assert [code_shape(s, cfg) for s in ("z", "w", "w+")] == [(8,), (16,), (cfg.num_ws, 16)]
    assert check_space("w+", MAPPED) == "w+"
    with pytest.raises(ValueError, match=r"space must be one of \('z', 'w'\), got 'w\+'"):
        check_space("w+", SAMPLED)


@pytest.mark.parametrize(
    "spec, rows",
    [
        ("coarse", [0, 1, 2, 3]),
        ("coarse,fine", [0, 1, 2, 3, 8, 9]),
        (("middle", "fine"), [4, 5, 6, 7, 8, 9]),
        ("0-2,6", [0, 1, 2, 6]),
        ([5, 1, 1], [1, 5]),
        (np.array([9, 0]), [0, 9]),
        (7, [7, 8, 9]),  # crossover: rows >= k, as style_mix
        ("none", []),
    ],
)
def test_resolve_layers_one_decoder_for_every_spec(spec, rows):
    assert resolve_layers(spec, 10) == rows


def test_resolve_layers_refusals():
    for spec, msg in [
        ("0-x", "bad layer spec"),
        ("ears", "unknown layer group"),
        ([0, 10], r"rows \[10\] do not exist; this generator has W\+ rows 0\.\.9"),
        ([1.5], "expected integer W\\+ rows"),
        (11, "crossover 11 out of range"),
        (2.0, "expected a layer spec"),
    ]:
        with pytest.raises(ValueError, match=msg):
            resolve_layers(spec, 10)
    assert resolve_layers("coarse", 8) == list(layer_set("coarse", 8))


def test_toy_model_tag_not_shapes():
    from latentjax.toyfaces import Z_DIM, is_toy_model

    common = dict(arch="stylegan2", resolution=64, z_dim=Z_DIM, w_dim=16, channels=(8,) * 5)
    assert is_toy_model(GeneratorConfig(**common, name="toyfaces-sg2"))
    assert not is_toy_model(GeneratorConfig(**common))  # the toy shapes, but no tag
    assert not is_toy_model(GeneratorConfig(**common, name="toyfacesX"))
