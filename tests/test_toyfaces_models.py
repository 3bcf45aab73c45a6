"""The shipped toyfaces classifier (accuracy bar of the issue) and the training code itself."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from latentjax import load_classifier
from latentjax.toyfaces import ATTRIBUTES, Z_DIM
from latentjax.toyfaces.train import TrainConfig, classifier_accuracy, toy_config

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="session")
def clf():
    return load_classifier("toyfaces")


def test_shipped_classifier_loads_by_name(clf):
    assert clf.attributes == ATTRIBUTES
    from latentjax.toyfaces import factors_of, render

    imgs = np.asarray(render(factors_of(np.random.RandomState(0).randn(4, Z_DIM).astype(np.float32))))
    probs = clf(imgs)
    assert set(probs) == set(ATTRIBUTES) and all(((p >= 0) & (p <= 1)).all() for p in probs.values())
    with pytest.raises(ValueError, match="images must be"):
        clf(imgs[:, :32])


def test_classifier_heldout_accuracy_at_least_97_percent(clf):
    acc = classifier_accuracy(clf, n=1024, seed=99)
    assert min(acc.values()) >= 0.97, acc


@pytest.mark.slow
def test_a_few_training_steps_reduce_the_loss(clf):
    from latentjax.toyfaces.train import train_classifier, train_generator

    hist: list[float] = []
    train_generator(
        toy_config("stylegan2"), clf, TrainConfig(steps=12, batch=8, log_every=100), log=lambda s: None, history=hist
    )
    assert np.mean(hist[-3:]) < 0.7 * np.mean(hist[:3]), hist
    hist = []
    train_classifier(steps=12, batch=32, log=lambda s: None, history=hist)
    assert np.mean(hist[-3:]) < np.mean(hist[:3]), hist


@pytest.mark.slow
def test_training_is_deterministic_given_seed(clf):
    from latentjax.toyfaces.train import train_generator

    cfg = toy_config("stylegan2")
    tc = TrainConfig(steps=2, batch=4, seed=3)
    a = train_generator(cfg, clf, tc, log=lambda s: None)
    b = train_generator(cfg, clf, tc, log=lambda s: None)
    same = jax.tree_util.tree_map(lambda x, y: bool(np.array_equal(x, y)), a.variables, b.variables)
    assert all(jax.tree_util.tree_leaves(same))
