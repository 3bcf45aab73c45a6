"""The latent toolkit's claims on the shipped toy generator, on small samples (the full-size numbers
are in reports/latent_toolkit.md, written by scripts/latent_report.py)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from latentjax import load_classifier, load_generator
from latentjax.directions import condition, cv_scores, logistic_direction
from latentjax.directions.effects import edit_effect
from latentjax.toyfaces import ATTRIBUTES, labels_of


@pytest.fixture(scope="module")
def world():
    G, clf = load_generator("toyfaces-sg2"), load_classifier("toyfaces")
    z = np.asarray(jax.random.normal(jax.random.key(11), (3000, G.config.z_dim)), np.float32)
    w = np.asarray(G.mapping(z))[:, 0]
    lab = labels_of(z)
    return G, clf, z, w, np.stack([np.asarray(lab[a]) for a in ATTRIBUTES], axis=1)


@pytest.mark.slow  # ~9 s of CPU (2026-12-02)
def test_table1_attributes_are_linearly_predictable_in_z_and_w(world):
    """Paper 000 Table 1's protocol (L1 logistic, C = 0.1, stratified CV) on 3000 latents."""
    _, _, z, w, y = world
    for space, x in (("z", z), ("w", w)):
        s = cv_scores(x, y, folds=5, C=0.1)
        assert s.auc.shape == (len(ATTRIBUTES),)
        assert s.auc.min() > 0.8 and s.balanced_accuracy.min() > 0.65, (space, dict(zip(ATTRIBUTES, s.auc)))


@pytest.mark.parametrize("attr", ["smiling", "long_hair", "blond_hair", "looking_right"])
@pytest.mark.slow  # ~5 s of CPU (2026-12-02)
def test_edit_moves_target_monotonically_and_more_than_the_others(world, attr):
    G, clf, _, w, y = world
    i = ATTRIBUTES.index(attr)
    d = logistic_direction(w, y[:, i], C=0.1).direction
    ws = np.repeat(w[:64, None], G.config.num_ws, axis=1)
    eff = edit_effect(G, clf, ws, d, float(np.std(w @ d)) * np.linspace(-3, 3, 5), attr)
    s = eff.summary()
    assert s["monotonic_fraction"] >= 0.75, s  # per latent; the mean curve below must be strictly rising
    # Bars from the weakest case, long_hair: 0.37 vs others 0.10 in reports/latent_toolkit.md (128
    # latents), 0.35 vs 0.12 here; the earlier (plain-MSE) toyfaces-sg2 gave 0.65 vs 0.11.
    assert s["target_abs_change"] > 0.3 and s["target_abs_change"] > 2.5 * s["others_mean_abs_change"], s
    curve = eff.mean_curve[:, i]
    assert np.all(np.diff(curve) > 0), curve  # the mean probability rises with lambda


@pytest.mark.slow  # ~6 s of CPU (2026-12-02)
def test_conditioning_reduces_the_change_of_the_conditioned_attribute(world):
    """InterFaceGAN's conditional manipulation: edit long_hair with the beard direction projected out
    (the pair of the world's missing combination, whose W directions are the most aligned)."""
    G, clf, _, w, y = world
    a, b = ATTRIBUTES.index("long_hair"), ATTRIBUTES.index("beard")
    da, db = (logistic_direction(w, y[:, j], C=0.1).direction for j in (a, b))
    ws = np.repeat(w[:32, None], G.config.num_ws, axis=1)
    lam = float(np.std(w @ da)) * np.linspace(-3, 3, 3)
    plain = edit_effect(G, clf, ws, da, lam, "long_hair")
    cond = edit_effect(G, clf, ws, np.asarray(condition(da, db[None])), lam, "long_hair")
    assert cond.mean_abs_change[b] < plain.mean_abs_change[b]
    assert cond.mean_abs_change[a] > 0.5 * plain.mean_abs_change[a]  # still edits the target


@pytest.mark.slow  # ~6 s of CPU (2026-12-02)
def test_fixing_the_encoding_entries_keeps_the_attribute(world):
    """Paper 000 Fig. 6: keep the 64 entries of w with the largest |d|, resample the rest from
    other faces: the attribute survives far more often than when nothing is kept."""
    from latentjax.edit import fix_and_resample

    G, clf, _, w, y = world
    i = ATTRIBUTES.index("long_hair")
    d = logistic_direction(w, y[:, i], C=0.1).direction
    pool, src = w[2000:2256], np.where(y[:2000, i])[0][:6]

    def kept(n_fixed: int) -> float:
        out = []
        for j, s in enumerate(src):
            new = np.asarray(fix_and_resample(w[s], d, n_fixed, jax.random.key(j), pool, num=16))
            out.append(clf(np.asarray(G.synthesis(np.repeat(new[:, None], G.config.num_ws, 1))))["long_hair"] > 0.5)
        return float(np.mean(out))

    assert kept(64) > kept(0) + 0.15
