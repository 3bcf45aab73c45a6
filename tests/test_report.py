"""latentjax.report: the provenance header and writer every scripts/*_report.py shares."""

from __future__ import annotations

import json
import shutil

from latentjax.report import REPO, finish, header, provenance, table, weights_version, write


def test_weights_version_digests_the_files_not_their_location(tmp_path):
    a = tmp_path / "a"
    (a / "sub").mkdir(parents=True)
    (a / "config.json").write_text("{}")
    (a / "sub" / "params").write_bytes(b"\x00\x01")
    shutil.copytree(a, tmp_path / "b")
    va, vb = weights_version("m", a), weights_version("m", tmp_path / "b")
    assert va["sha256"] == vb["sha256"] and len(va["sha256"]) == 12
    assert va["commit"] is None  # outside the repository: no commit to name
    (tmp_path / "b" / "sub" / "params").write_bytes(b"\x00\x02")
    assert weights_version("m", tmp_path / "b")["sha256"] != va["sha256"]
    (tmp_path / "b" / "sub" / "params").rename(tmp_path / "b" / "sub" / "params2")  # same bytes, other name
    assert weights_version("m", tmp_path / "b")["sha256"] != va["sha256"]


def test_shipped_weights_are_named_by_their_last_commit():
    v = weights_version("toyfaces-sg2", REPO / "weights" / "toyfaces-sg2")
    assert v["commit"] and len(v["commit"].rstrip("+")) >= 7


def test_header_renders_from_the_saved_json(tmp_path):
    prov = provenance("x_report.py", ["--n", "3", "--out", "a b.md"], models=["toyfaces-sg2"], classifier="toyfaces")
    rep = {"provenance": finish(prov), "value": 1.5}
    md = "\n".join([*header("A title", rep["provenance"]), *table(["k", "v"], [("a", 1), ("b", "2.0")])])
    out = write(tmp_path / "r" / "x.md", md, rep)
    back = json.loads(out.with_suffix(".json").read_text())
    text = out.read_text()
    assert back == rep and text.endswith("\n") and sorted(p.name for p in out.parent.iterdir()) == ["x.json", "x.md"]
    assert text.startswith("# A title\n") and text == md + "\n"
    assert "`python3 scripts/x_report.py --n 3 --out 'a b.md'`" in text  # shell-quoted: copy, paste, rerun
    assert "`toyfaces-sg2` (commit " in text and "`classifier toyfaces` (commit " in text
    assert "| a | 1 |\n| b | 2.0 |" in text and text.count("|---|---|") == 1
    assert "\n".join(header("A title", back["provenance"])) in text  # --render-style rewrite: the same header
