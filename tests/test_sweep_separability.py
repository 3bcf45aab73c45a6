"""scripts/sweep_separability.py end to end on the toy generators (exact labels: no synthesis)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import load_script
from PIL import Image

from latentjax.metrics.sample import sample_labelled
from latentjax.metrics.separability import linear_separability


@pytest.mark.slow
def test_sweep_writes_table_json_and_plot(tmp_path):
    import latentjax

    out = tmp_path / "sweep"
    args = ["--models", "toyfaces-sg2,toyfaces-sg1", "--psi", "1", "--labels", "exact", "--n", "400"]
    assert load_script("sweep_separability").main([*args, "--engine", "sklearn", "--out", str(out), "--quiet"]) == 0
    rows = json.loads(out.with_suffix(".json").read_text())
    assert [(r["model"], r["space"]) for r in rows] == [
        ("toyfaces-sg2", "z"),
        ("toyfaces-sg2", "w"),
        ("toyfaces-sg1", "z"),
        ("toyfaces-sg1", "w"),
    ]
    # each row is the metric of that model's sample, computed directly
    data = sample_labelled(latentjax.load_generator("toyfaces-sg1"), 400, 0, 1.0, "exact")
    assert rows[3]["score"] == pytest.approx(linear_separability(data.w, data.probs, engine="sklearn").score, rel=1e-9)
    assert rows[0]["score"] == pytest.approx(rows[2]["score"], rel=1e-9)  # same z and labels: Z doesn't see G
    table = out.with_suffix(".md").read_text()
    assert "| toyfaces-sg1 | 1 | " in table and f"{rows[3]['score']:.3f}" in table
    img = np.asarray(Image.open(out.with_suffix(".png")))
    assert img.ndim == 3 and img.shape[0] > 100 and img.std() > 0
