"""latentjax.validate: the API-edge checks, property-tested on generated shapes, dtypes and values,
and wired into the public functions (a bad input is refused there, naming the argument)."""

from __future__ import annotations

import dataclasses
import json
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from latentjax import validate
from latentjax.config import GeneratorConfig
from latentjax.errors import InputError

finite = st.floats(-1e6, 1e6, allow_nan=False, width=32)
shapes = array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)


@given(arrays(np.float32, shapes, elements=finite))
def test_finite_real_arrays_pass_unchanged(x):
    out = validate.real_array(x, "x", tuple("abcd"[: x.ndim]))
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_array_equal(out, x)


@given(arrays(np.float32, shapes, elements=finite), st.data(), st.sampled_from([np.nan, np.inf, -np.inf]))
def test_a_non_finite_entry_is_refused_at_its_position(x, data, bad):
    flat = data.draw(st.integers(0, x.size - 1))
    x = x.copy()
    x.flat[flat] = bad
    pos = tuple(int(i) for i in np.unravel_index(flat, x.shape))
    kind = "NaN" if np.isnan(bad) else "inf"
    with pytest.raises(
        InputError, match=re.escape(f"latent: expected finite values, got {kind} at 1 position(s), first {pos}")
    ):
        validate.real_array(x, "latent")
    assert validate.real_array(x, "latent", finite=False).shape == x.shape  # opt-out keeps the values


@given(shapes, st.sampled_from([np.complex64, np.complex128]))
def test_complex_is_refused_not_truncated(shape, dtype):
    with pytest.raises(InputError, match=rf"^z: expected real numbers, got {np.dtype(dtype)} \(complex"):
        validate.real_array(np.zeros(shape, dtype), "z")


@given(shapes, st.sampled_from([np.bool_, np.str_, object]))
def test_non_numeric_dtypes_are_refused(shape, dtype):
    with pytest.raises(InputError, match="^ws: expected real numbers, got dtype"):
        validate.real_array(np.zeros(shape, dtype), "ws")


@given(shapes, shapes)
def test_a_shape_other_than_the_spec_is_refused_naming_both(shape, want):
    assume(shape != want)
    msg = f"ws: expected float array [{', '.join(map(str, want))}], got float32 [{', '.join(map(str, shape))}]"
    with pytest.raises(InputError, match=re.escape(msg)):
        validate.real_array(np.zeros(shape, np.float32), "ws", want)


@given(arrays(np.float32, array_shapes(min_dims=4, max_dims=4, max_side=4), elements=st.floats(-1, 1, width=32)))
def test_images_in_minus1_1_pass(x):
    np.testing.assert_array_equal(validate.images(x, "img"), x)


@given(arrays(np.uint8, st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.just(3))))
def test_pixels_in_0_255_are_refused_with_the_rescaling(px):
    assume(px.max() >= 192)  # a [0, 255] image with any bright pixel
    with pytest.raises(InputError, match=r"uint8 \(use x / 127.5 - 1\)"):
        validate.images(px, "targets")
    as_float = px.astype(np.float32)
    msg = f"targets: expected values in [-1, 1], got range [{as_float.min():g}, {as_float.max():g}] ([0, 255] pixels?"
    with pytest.raises(InputError, match=re.escape(msg)):
        validate.images(as_float, "targets")
    np.testing.assert_allclose(validate.images(as_float / 127.5 - 1, "targets"), as_float / 127.5 - 1)


@given(
    arrays(np.bool_, st.tuples(st.integers(1, 20), st.integers(1, 4))), st.sampled_from([bool, np.int64, np.float32])
)
def test_binary_labels_of_any_numeric_type_pass(y, dtype):
    np.testing.assert_array_equal(validate.labels(y.astype(dtype), "labels", ("N", y.shape[1])), y)


@given(arrays(np.float32, st.tuples(st.integers(1, 20), st.integers(1, 3)), elements=st.floats(0.125, 0.875, width=32)))
def test_probabilities_are_not_labels(p):
    with pytest.raises(InputError, match=r"^labels: expected bool or 0/1 labels, .*threshold them: probs > 0\.5"):
        validate.labels(p, "labels")
    np.testing.assert_array_equal(validate.probabilities(p, "probs"), p)


@given(arrays(np.bool_, st.integers(1, 30)), st.data())
def test_nan_labels_are_refused(y, data):
    f = y.astype(np.float32)
    f[data.draw(st.integers(0, len(f) - 1))] = np.nan
    with pytest.raises(InputError, match=r"^labels: expected bool or 0/1 labels, got NaN or inf \(1 entries\)"):
        validate.labels(f, "labels")


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_scalar_psi_is_finite(psi):
    if np.isfinite(psi):
        assert validate.scalar(psi, "truncation_psi") == psi
    else:
        with pytest.raises(InputError, match="^truncation_psi: expected a finite number"):
            validate.scalar(psi, "truncation_psi")


@given(st.integers(1, 20), st.lists(st.integers(-30, 30), max_size=6, unique=True))
def test_layer_rows_must_exist(num_ws, rows):
    bad = [r for r in rows if not 0 <= r < num_ws]
    if bad:
        with pytest.raises(InputError, match=re.escape(f"layers: rows {bad} do not exist")):
            validate.layer_rows(rows, num_ws)
    else:
        assert validate.layer_rows(rows, num_ws) == rows


def test_under_jit_only_static_facts_are_checked():
    """Inside the user's jit the values are not visible: shape checks still fire, values pass."""
    f = jax.jit(lambda x: validate.real_array(x, "x", ("N", 3)) * 2)
    assert bool(jnp.isnan(f(jnp.full((2, 3), jnp.nan))).all())
    with pytest.raises(InputError, match=r"x: expected float array \[N, 3\]"):
        f(jnp.zeros((2, 4)))


CFG = GeneratorConfig("stylegan2", 8, z_dim=4, w_dim=4, channels=(4, 4), mapping_fmaps=4).to_dict()
TYPE_OF = {f.name: str(f.type) for f in dataclasses.fields(GeneratorConfig)}
WRONG = {"str": 3, "int": "32", "float": "0.01", "bool": "true", "tuple[int, ...]": "4,4", "float | None": "none"}


@given(st.sampled_from(sorted(TYPE_OF)))
def test_every_config_field_of_the_wrong_json_type_is_named(field):
    bad = {**json.loads(json.dumps(CFG)), field: WRONG.get(TYPE_OF[field], {"x": 1})}
    with pytest.raises(InputError, match=rf"^config\.json: '{field}' must be {re.escape(TYPE_OF[field])}, got "):
        validate.dataclass_fields(bad, GeneratorConfig, "config.json")


def test_config_problems_come_in_one_message():
    bad = {k: v for k, v in CFG.items() if k != "z_dim"} | {"resolution": 32.0, "extra": 1}
    msg = str(pytest.raises(InputError, validate.dataclass_fields, bad, GeneratorConfig, "c.json").value)
    assert "unknown key 'extra'" in msg and "missing 'z_dim'" in msg and "'resolution' must be int" in msg
    assert validate.dataclass_fields(json.loads(json.dumps(CFG)), GeneratorConfig, "c.json")


def test_read_npz_refuses_pickles_and_names_the_file(tmp_path):
    p = tmp_path / "obj.npz"
    np.savez(p, ws=np.array([{"a": 1}], dtype=object))
    msg = str(pytest.raises(InputError, validate.read_npz, p, "latents").value)
    assert str(p) in msg and "allow_pickle" not in msg and "Python objects" in msg
    (tmp_path / "text.npz").write_text("hello")
    msg = str(pytest.raises(InputError, validate.read_npz, tmp_path / "text.npz", "latents").value)
    assert msg.startswith(f"{tmp_path / 'text.npz'}: not a readable .npz") and "allow_pickle" not in msg
    with pytest.raises(InputError, match="missing.npz: no such file"):
        validate.read_npz(tmp_path / "missing.npz", "latents")
    np.savez(tmp_path / "ok.npz", w=np.ones((2, 3), np.float32))
    with pytest.raises(InputError, match=r"missing array\(s\) \['ws'\]; it holds \['w'\]"):
        validate.read_npz(tmp_path / "ok.npz", "latents", needs=("ws",))


# ---- wired into the public API -----------------------------------------------------------------


def z(n, dim=8):
    return np.random.RandomState(0).randn(n, dim).astype(np.float32)


def test_generator_edge_refuses_complex_nan_psi_and_cutoff(tiny_sg2):
    G = tiny_sg2
    with pytest.raises(InputError, match="^z: expected real numbers, got complex64"):
        G.mapping(z(2).astype(np.complex64))
    with pytest.raises(InputError, match="^truncation_psi: expected a finite number, got nan"):
        G.mapping(z(2), float("nan"))
    with pytest.raises(InputError, match=rf"^truncation_cutoff: expected an integer in \[0, {G.config.num_ws}\]"):
        G.mapping(z(2), 0.7, G.config.num_ws + 1)
    ws = np.asarray(G.mapping(z(2)))
    noise = [np.zeros((1, *s), np.float32) for s in G.noise_shapes]
    noise[1][0, 0, 0] = np.nan
    with pytest.raises(InputError, match=r"^noise\[1\]: expected finite values"):
        G.synthesis(ws, noise=noise)
    with pytest.raises(InputError, match="^ws: expected finite values, got inf"):
        G.synthesis(np.where(np.arange(ws.size).reshape(ws.shape) == 5, np.inf, ws))


def test_edit_refuses_broadcasting_directions_and_missing_rows():
    from latentjax.edit import edit, shift

    ws = np.random.RandomState(0).randn(3, 6, 4).astype(np.float32)
    with pytest.raises(InputError, match=r"^direction: expected float array \[6, 4\], got float32 \[1, 4\]"):
        edit(ws, np.ones((1, 4), np.float32), 1.0)
    with pytest.raises(InputError, match=r"^direction: expected float array \[4\], got float32 \[5\]"):
        edit(ws, np.ones(5, np.float32), 1.0)
    with pytest.raises(InputError, match=r"^layers: rows \[6, 9\] do not exist; this generator has W\+ rows 0\.\.5"):
        edit(ws, np.ones(4, np.float32), 1.0, [0, 6, 9])
    with pytest.raises(InputError, match=r"^direction: expected float array \[4\], got float32 \[3\]"):
        shift(ws[:, 0], np.ones(3, np.float32), 1.0)
    d = np.arange(4, dtype=np.float32)
    out = np.asarray(edit(ws, d, 2.0, [1, 3]))
    np.testing.assert_array_equal(out[:, [0, 2, 4, 5]], ws[:, [0, 2, 4, 5]])
    np.testing.assert_allclose(out[:, [1, 3]], ws[:, [1, 3]] + 2 * d)


def test_edited_ws_checks_the_direction_against_the_model(tiny_sg2):
    from latentjax.directions.io import Direction
    from latentjax.figures import edited_ws

    G, cfg = tiny_sg2, tiny_sg2.config
    with pytest.raises(InputError, match=rf"expected a z vector \[{cfg.z_dim}\] \(the model's z_dim\), got \[1\]"):
        edited_ws(G, Direction(np.ones(1, np.float32), "z"), [1.0], z=z(1))
    with pytest.raises(InputError, match=rf"layers: rows \[{cfg.num_ws}\] do not exist"):
        edited_ws(G, Direction(np.ones(cfg.w_dim, np.float32), "w", (0, cfg.num_ws)), [1.0], z=z(1))
    with pytest.raises(InputError, match=r"expected a w vector \[\d+\] \(the model's w_dim\), got \[1\]"):
        edited_ws(G, Direction(np.ones(1, np.float32), "w"), [1.0], z=z(1))


def test_fit_directions_refuses_nan_and_probability_labels():
    from latentjax.directions.fit import fit_directions

    x = np.random.RandomState(0).randn(20, 3).astype(np.float32)
    p = np.random.RandomState(1).uniform(0.1, 0.9, (20, 1)).astype(np.float32)
    with pytest.raises(InputError, match="threshold them: probs > 0.5"):
        fit_directions(x, p, ["a"])
    y = (p > 0.5).astype(np.float32)
    y[3] = np.nan
    with pytest.raises(InputError, match="^labels: expected bool or 0/1 labels, got NaN"):
        fit_directions(x, y, ["a"])
    x[2, 1] = np.inf
    with pytest.raises(InputError, match=r"^latents: expected finite values, got inf .* first \(2, 1\)"):
        fit_directions(x, p > 0.5, ["a"])
