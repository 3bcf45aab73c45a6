"""latentjax.workflows called as a notebook would (no CLI): records agree with the metrics they wrap."""

from __future__ import annotations

import json

import numpy as np
import pytest

from latentjax.io import to_jsonable, write_json
from latentjax.metrics.dci import dci
from latentjax.metrics.sample import LabelledLatents
from latentjax.metrics.separability import DEFAULT_ENGINE, linear_separability
from latentjax.workflows import measure


@pytest.fixture(scope="module")
def labelled():
    rng = np.random.RandomState(0)
    z, w = rng.randn(300, 6).astype(np.float32), rng.randn(300, 5).astype(np.float32)
    logits = np.stack([w[:, 0] * 3, w[:, 1] - w[:, 2]], axis=1)
    probs = (1 / (1 + np.exp(-logits))).astype(np.float32)
    return LabelledLatents(z, w, probs, ("a", "b"), "test")


def test_measure_separability_is_linear_separability_with_the_default_engine(labelled, tmp_path):
    m = measure("separability", None, space="w", labelled=labelled, model="m")
    direct = linear_separability(labelled.w, labelled.probs, attributes=("a", "b"))
    assert m.result.engine == DEFAULT_ENGINE == direct.engine
    assert m.result.score == pytest.approx(direct.score, rel=1e-12)
    write_json(tmp_path / "r.json", m.record)
    record = json.loads((tmp_path / "r.json").read_text())
    assert record["metric"] == "separability" and record["n"] == 300 and record["attributes"] == ["a", "b"]
    assert record["result"]["score"] == pytest.approx(direct.score)


def test_measure_dci_in_z_and_refusals(labelled):
    m = measure("dci", None, space="z", labelled=labelled, options={"alpha": 0.01})
    direct = dci(labelled.z, labelled.labels, alpha=0.01)
    assert m.result.disentanglement == pytest.approx(direct.disentanglement)
    with pytest.raises(ValueError, match="space must be one of"):
        measure("dci", None, space="w+", labelled=labelled)
    with pytest.raises(ValueError, match="metric must be one of"):
        measure("fid", None, labelled=labelled)
    with pytest.raises(ValueError, match="needs labelled latents"):
        measure("scores", None)


def test_to_jsonable_nested():
    out = to_jsonable({"a": np.float32(1.5), 2: (np.arange(2), [np.int64(3)]), "s": "x"})
    assert out == {"a": 1.5, "2": [[0, 1], [3]], "s": "x"} and json.dumps(out)
