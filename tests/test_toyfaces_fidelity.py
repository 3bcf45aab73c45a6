"""Per-feature fidelity against the renderer: latentjax.toyfaces.fidelity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latentjax.toyfaces import FACTORS, Z_DIM, factors_of, render
from latentjax.toyfaces.fidelity import factor_change, region_errors

N = 8  # one batch shape for every call: the renderer compiles once


def _factors(seed: int):
    return factors_of(np.random.RandomState(seed).randn(N, Z_DIM).astype(np.float32))


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_the_renderer_itself_scores_zero_in_every_region(seed):
    f = _factors(seed)
    rep = region_errors(np.asarray(render(f)), f)
    assert set(rep) == {"whole image", *FACTORS}
    for name, row in rep.items():
        assert row["error"] == 0.0 or np.isnan(row["error"]), (name, row)
        assert 0.0 <= row["area"] <= 1.0


def test_a_face_drawn_without_its_glasses_is_an_error_inside_the_glasses_region_only():
    f = _factors(5)
    g = FACTORS.index("eyeglasses")
    f = f.at[: N // 2, g].set(1.0).at[N // 2 :, g].set(0.0)  # half wear glasses
    drawn = np.asarray(render(f.at[:, g].set(0.0)))  # a generator that never draws them
    rep = region_errors(drawn, f)
    glasses = rep["eyeglasses"]
    # the faces that lack glasses are drawn exactly; on the others the error sits on the rims
    assert glasses["error_off"] == 0.0 and glasses["error_on"] > 0.2, glasses
    assert glasses["error"] > 5 * rep["whole image"]["error"], rep
    assert rep["background_hue"]["error"] < 0.2 * glasses["error"], rep
    # the region itself: rims, bridge and arms, a small share of the canvas
    assert 0.01 < glasses["area"] < 0.2, glasses


def test_eye_size_region_is_the_band_of_the_eyes_and_brows():
    """Eyes sit at y = -0.08 (row 29), radius <= 0.135 (4.3 px), brows up to 0.26 above the centre
    line (render.py): every face has eye_size pixels, all of them within rows 16-40."""
    f = _factors(9)
    moved = np.asarray(factor_change(f, render(f), "eye_size")) > 0.1  # [N, H, W]
    assert moved.shape == (N, 64, 64)
    assert moved.reshape(N, -1).any(axis=1).all()
    rows = np.nonzero(moved.any(axis=(0, 2)))[0]
    assert rows.min() >= 16 and rows.max() <= 40, rows


def test_region_errors_refuses_mismatched_shapes():
    f = _factors(1)
    with pytest.raises(ValueError, match="expected images"):
        region_errors(np.zeros((N, 64, 64)), f)
    with pytest.raises(ValueError, match="do not match"):
        region_errors(np.zeros((N, 32, 32, 3)), f)
