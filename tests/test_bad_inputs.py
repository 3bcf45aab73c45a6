"""Issue 20's classes of bad input, walked through the command line: each is refused with one line
`error: <file or argument>: <what>`, exit code 2, and nothing is written. Plus the CLI's own
manners: --debug, unexpected errors, Ctrl-C, --help defaults, true frame counts, --quiet."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from latentjax.checkpoint import save_generator
from latentjax.cli import build_parser, main
from latentjax.directions.io import Direction, save_direction


@pytest.fixture(scope="module")
def model(tmp_path_factory, tiny_sg2):
    """tiny_sg2 as a converted checkpoint directory (loads in well under a second)."""
    d = tmp_path_factory.mktemp("model") / "tiny"
    save_generator(d, tiny_sg2.config, {k: tiny_sg2.variables[k] for k in ("params", "buffers")})
    return d


def run(argv, capsys):
    """main(argv) -> (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def refused(code, err, *parts):
    """Exit 2, exactly one stderr line `error: ...` holding every part, no traceback."""
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "allow_pickle" not in err
    for p in parts:
        assert p in err, (p, err)


def edited_copy(model: Path, dst: Path, **changes) -> Path:
    shutil.copytree(model, dst)
    doc = json.loads((dst / "config.json").read_text())
    doc["config"].update(changes)
    (dst / "config.json").write_text(json.dumps(doc))
    return dst


# ---- converted checkpoints -----------------------------------------------------------------------


@pytest.mark.slow  # ~26 s of CPU (2026-12-02)
def test_config_that_disagrees_with_the_weights_is_refused(model, tmp_path, capsys):
    bad = edited_copy(model, tmp_path / "m32", resolution=32, channels=[8, 8, 4, 4], fused_up=[False] * 3)
    out = tmp_path / "out"
    code, _, err = run(["generate", "--model", bad, "--seeds", "0", "--outdir", out], capsys)
    refused(code, err, f"{bad}: config.json does not match variables/", "resolution 32 (arrays: 16)", "missing")
    assert not out.exists()
    bad = edited_copy(model, tmp_path / "z4", z_dim=4)
    code, _, err = run(["generate", "--model", bad, "--outdir", out], capsys)
    refused(code, err, "z_dim 4 (arrays: 8)", "fc0_weight [8, 8] (config: [4, 8])")
    assert not out.exists()


@pytest.mark.parametrize(
    "field, value, expect",
    [
        ("resolution", "32", "'resolution' must be int, got str \"32\""),
        ("channels", 8, "'channels' must be tuple[int, ...], got int 8"),
        ("normalize_latents", "yes", "'normalize_latents' must be bool"),
        ("conv_clamp", "none", "'conv_clamp' must be float | None"),
    ],
)
def test_config_field_of_the_wrong_json_type_is_named(model, tmp_path, capsys, field, value, expect):
    bad = edited_copy(model, tmp_path / "m", **{field: value})
    code, _, err = run(["generate", "--model", bad, "--outdir", tmp_path / "out"], capsys)
    refused(code, err, str(bad), expect)
    assert not (tmp_path / "out").exists()


def test_truncated_weights_give_one_line_and_no_orbax_noise(model, tmp_path):
    bad = tmp_path / "cut"
    shutil.copytree(model, bad)
    data = max((bad / "variables" / "d").iterdir(), key=lambda p: p.stat().st_size)  # the array data
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 3])
    out = tmp_path / "out"
    # A subprocess: the tracebacks the issue saw came at interpreter exit, after main() returned.
    r = subprocess.run(
        [sys.executable, "-m", "latentjax", "generate", "--model", str(bad), "--outdir", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        timeout=300,
    )
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}: "), r.stderr
    assert "truncated or corrupt" in lines[0] and not out.exists()


# ---- direction files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "direction, expect",
    [
        (Direction(np.ones(1, np.float32), "w"), "expected a w vector [8] (the model's w_dim), got [1]"),
        (Direction(np.ones(8, np.float32), "w", (0, 12)), "layers: rows [12] do not exist; this generator has W+ rows"),
        (Direction(np.ones(5, np.float32), "z"), "expected a z vector [8] (the model's z_dim), got [5]"),
        (Direction(np.ones((2, 8), np.float32), "w+"), "expected a per-layer vector [6, 8], got [2, 8]"),
    ],
    ids=["w-dim-1", "missing-rows", "z-size", "w+-rows"],
)
def test_direction_that_does_not_fit_the_model(model, tmp_path, capsys, direction, expect):
    d = save_direction(tmp_path / "d.npz", direction)
    out = tmp_path / "out"
    code, _, err = run(["edit", "--model", model, "--direction", d, "--seeds", "0", "--outdir", out], capsys)
    refused(code, err, str(d), expect)
    assert not out.exists()


def test_edit_layers_flag_naming_rows_the_model_lacks(model, tmp_path, capsys):
    d = save_direction(tmp_path / "d.npz", Direction(np.ones(8, np.float32), "w"))
    out = tmp_path / "out"
    code, _, err = run(["edit", "--model", model, "--direction", d, "--layers", "4-9", "--outdir", out], capsys)
    refused(code, err, "layers: rows [6, 7, 8, 9] do not exist")
    assert not out.exists()


# ---- files: missing, not npz, pickled ------------------------------------------------------------


def bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    text = tmp_path / "notes.npz"
    text.write_text("not a zip")
    pickled = tmp_path / "obj.npz"
    np.savez(pickled, ws=np.array([{"x": 1}], dtype=object))
    npy = tmp_path / "one.npy"
    np.save(npy, np.zeros(3, np.float32))
    return {
        "missing": (tmp_path / "nope.npz", "no such file"),
        "text": (text, "not"),
        "pickled": (pickled, ""),
        "npy": (npy, ""),
        "directory": (tmp_path, ""),
    }


@pytest.mark.parametrize("kind", ["missing", "text", "pickled", "npy", "directory"])
def test_bad_ws_and_direction_files_give_one_line_naming_the_file(model, tmp_path, capsys, kind):
    path, what = bad_files(tmp_path)[kind]
    out = tmp_path / "out"
    code, _, err = run(["generate", "--model", model, "--ws", path, "--outdir", out], capsys)
    refused(code, err, f"error: {path}", what)
    code, _, err = run(["edit", "--model", model, "--direction", path, "--outdir", out], capsys)
    refused(code, err, str(path), what)
    assert not out.exists()


def test_latents_file_with_bad_values(model, tmp_path, capsys):
    out = tmp_path / "out"
    cases = {
        "complex": (np.zeros((2, 6, 8), np.complex64), "expected real numbers, got complex64"),
        "nan": (np.full((2, 6, 8), np.nan, np.float32), "expected finite values, got NaN"),
        "rows": (np.zeros((2, 1, 8), np.float32), "ws: expected float array [N, 6, 8], got float32 [2, 1, 8]"),
    }
    for name, (ws, expect) in cases.items():
        np.savez(tmp_path / f"{name}.npz", ws=ws)
        code, _, err = run(["generate", "--model", model, "--ws", tmp_path / f"{name}.npz", "--outdir", out], capsys)
        refused(code, err, f"{name}.npz: ws", expect)
    code, _, err = run(["generate", "--model", model, "--trunc", "nan", "--outdir", out], capsys)
    refused(code, err, "truncation_psi: expected a finite number, got nan")
    code, _, err = run(["generate", "--model", model, "--seeds", "5-2", "--outdir", out], capsys)
    assert code == 2 and err.count("\n") == 1
    assert not out.exists()


# ---- concurrent sample ---------------------------------------------------------------------------


def test_second_sample_on_a_folder_in_use_exits_at_once(model, tmp_path, capsys):
    from latentjax.io import dir_lock

    out = tmp_path / "data"
    with dir_lock(out):
        code, _, err = run(["sample", "--model", model, "--n", "4", "--classifier", "none", "--out", out], capsys)
    refused(code, err, f"{out}: in use by pid {os.getpid()}")
    assert list(out.iterdir()) == []


def test_ctrl_c_in_sample_says_it_stopped_and_how_to_resume(model, tmp_path, capsys, monkeypatch):
    import latentjax.dataset

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(latentjax.dataset, "sample_dataset", interrupted)
    code, _, err = run(
        ["sample", "--model", model, "--n", "4", "--classifier", "none", "--out", tmp_path / "d"], capsys
    )
    assert code == 130 and "Traceback" not in err
    assert "stopped (Ctrl-C)" in err and "rerun the same command to resume" in err


# ---- the CLI's manners ---------------------------------------------------------------------------


def test_debug_shows_the_traceback_and_unexpected_errors_say_where_to_report(model, tmp_path, capsys, monkeypatch):
    import latentjax.render

    missing = tmp_path / "nope.npz"
    with pytest.raises(ValueError, match="nope.npz: no such file"):
        main(["generate", "--model", str(model), "--ws", str(missing), "--outdir", str(tmp_path / "o"), "--debug"])

    def broken(*a, **k):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(latentjax.render, "load_ws", broken)
    code, _, err = run(["generate", "--model", model, "--ws", missing, "--outdir", tmp_path / "o"], capsys)
    assert code == 1 and err.startswith("error: unexpected RuntimeError: boom second line\n")
    assert "report" in err and "--debug" in err and "Traceback" not in err
    with pytest.raises(RuntimeError, match="boom"):
        main(["--debug", "generate", "--model", str(model), "--ws", str(missing), "--outdir", str(tmp_path / "o")])


def _leaf_parsers(parser, name="latentjax"):
    import argparse

    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield name, parser
    for s in subs:
        for n, p in s.choices.items():
            yield from _leaf_parsers(p, f"{name} {n}")


def test_help_shows_every_default():
    missing = []
    for name, p in _leaf_parsers(build_parser()):
        text = " ".join(p.format_help().split())
        for a in p._actions:
            if a.option_strings and a.default not in (None, False) and a.default != "==SUPPRESS==":
                if "default" not in (a.help or "").lower() and f"(default: {a.default})" not in text:
                    missing.append(f"{name} {a.option_strings[0]}")
                elif "%(default)s" in (a.help or "") and str(a.default) not in text:
                    missing.append(f"{name} {a.option_strings[0]}")
    assert not missing, missing


@pytest.mark.slow  # ~9 s of CPU (2026-12-02)
def test_interpolate_reports_the_frames_written_and_quiet_keeps_the_result_line(model, tmp_path, capsys):
    from PIL import Image

    gif = tmp_path / "i.gif"
    code, out, err = run(["interpolate", "--model", model, "--seeds", "0-2", "--steps", "4", "--out", gif], capsys)
    assert code == 0
    with Image.open(gif) as im:
        n = im.n_frames
    assert 9 < n <= 2 * 9 - 2 and f"wrote {gif}: {n} frames (9 images there and back)" in out
    assert "compiling…" in err  # the wait is announced
    code, out, err = run(
        ["interpolate", "--model", model, "--seeds", "0,1", "--steps", "3", "--quiet", "--out", tmp_path / "s.png"],
        capsys,
    )
    assert code == 0 and err == "" and f"wrote {tmp_path / 's.png'}: 4 frames" in out
    code, out, err = run(["generate", "--model", model, "--seeds", "0", "--quiet", "--outdir", tmp_path / "g"], capsys)
    assert code == 0 and str(tmp_path / "g") in out


def test_mp4_is_refused_before_rendering_without_ffmpeg(model, tmp_path, capsys, monkeypatch):
    import latentjax
    import latentjax.media

    monkeypatch.setattr(latentjax.media, "video_available", lambda: False)
    monkeypatch.setattr(latentjax, "load_generator", lambda *a: pytest.fail("rendered before refusing"))
    code, _, err = run(["interpolate", "--model", model, "--out", tmp_path / "v.mp4"], capsys)
    refused(code, err, "v.mp4: .mp4 needs imageio and imageio-ffmpeg")
    code, _, err = run(["mix", "--model", model, "--out", tmp_path / "m.xyz"], capsys)
    refused(code, err, "m.xyz: unknown image type .xyz")
    assert list(tmp_path.iterdir()) == []
