"""Real jobs of 2 local processes (jax.distributed, gloo on CPU) against one process: the same
bytes, the same scores; a peer killed mid-run fails the job with its name and a rerun resumes.
Each job starts fresh interpreters that compile the generator: slow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, cpu_env

from latentjax.cli import main
from latentjax.dataset import load_dataset
from latentjax.distributed import free_port, launch_local

ROOT = Path(__file__).resolve().parents[1]
MODEL = str(DATA / "stylegan2/sg2_r32_z64_m8.pkl")  # small and fast to compile
ENV = {**cpu_env(1), "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}

pytestmark = pytest.mark.slow
# a dead peer is noticed after this many silent seconds (JAX's default 100 s was most of two tests' time)
HEARTBEAT = ["--heartbeat-timeout", "10"]


def launch(argv: list[str], n: int = 2) -> None:
    codes = launch_local(argv, n, env=ENV, grace=30)
    assert codes == [0] * n, codes


def assert_same_dataset(a: Path, b: Path):
    ma, mb = (json.loads((d / "manifest.json").read_text()) for d in (a, b))
    assert ma == mb and ma["complete"]
    for e in ma["shards"]:
        assert (a / e["file"]).read_bytes() == (b / e["file"]).read_bytes(), e["file"]
    da, db = load_dataset(a, fields=tuple(ma["fields"])), load_dataset(b, fields=tuple(mb["fields"]))
    for k in ma["fields"]:
        assert da[k].dtype == db[k].dtype and np.array_equal(da[k], db[k]), k


@pytest.mark.slow  # ~36 s of CPU (2026-12-02)
def test_two_processes_sample_the_same_dataset_as_one(tmp_path):
    argv = ["sample", "--model", MODEL, "--n", "44", "--batch", "5", "--shard-size", "8", "--seed", "4"]
    argv += ["--trunc", "0.7", "--save-ws", "--thumbnails", "8", "--noise-mode", "random", "--quiet"]
    assert main(argv + ["--out", str(tmp_path / "one")]) == 0
    launch(argv + ["--out", str(tmp_path / "two")])
    assert_same_dataset(tmp_path / "one", tmp_path / "two")
    m = json.loads((tmp_path / "two" / "manifest.json").read_text())
    assert set(m["fields"]) == {"index", "z", "w", "ws", "thumbs", "probs"}  # every array compared


@pytest.mark.slow  # ~15 s of CPU (2026-12-02)
def test_killed_peer_fails_the_job_by_name_and_a_rerun_resumes(tmp_path):
    argv = ["sample", "--model", MODEL, "--n", "600", "--batch", "8", "--shard-size", "8", "--classifier", "none"]
    argv += ["--quiet"]
    out = tmp_path / "ds"
    port = free_port()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "latentjax", *argv, "--out", str(out)]
            + ["--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(i)]
            + HEARTBEAT,
            env={**os.environ, **ENV},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # kill process 1 once a few rounds are recorded
            try:
                if len(json.loads((out / "manifest.json").read_text())["shards"]) >= 4:
                    break
            except (FileNotFoundError, json.JSONDecodeError):
                pass
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            time.sleep(0.2)
        procs[1].send_signal(signal.SIGKILL)
        _, err = procs[0].communicate(timeout=120)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
    assert procs[0].returncode == 1
    last = [line for line in err.splitlines() if line.startswith("error:")]
    assert last and "process 1 of 2 stopped" in last[-1] and "rerun" in last[-1], err[-2000:]
    m = json.loads((out / "manifest.json").read_text())
    assert not m["complete"] and 4 <= len(m["shards"]) < 75

    launch(argv + ["--out", str(out)])  # resume with 2 processes
    assert main(argv + ["--out", str(tmp_path / "ref")]) == 0
    assert_same_dataset(tmp_path / "ref", out)
    index = load_dataset(out, fields=("z",))["index"]
    assert np.array_equal(index, np.arange(600))  # no row lost or duplicated


@pytest.mark.slow  # ~23 s of CPU (2026-12-02)
def test_two_processes_generate_the_same_files_as_one(tmp_path):
    # 7 seeds in batches of 3: process 0 renders batches 0-1, process 1 batch 2 (padded), random noise per batch
    argv = ["generate", "--model", MODEL, "--seeds", "3-9", "--batch", "3", "--noise-mode", "random", "--quiet"]
    assert main(argv + ["--outdir", str(tmp_path / "one")]) == 0
    launch(argv + ["--outdir", str(tmp_path / "two")])
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "two").iterdir())
    assert len(names) == 7 + 2  # seed PNGs, grid.png, latents.npz
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


@pytest.mark.parametrize("engine", ["jax", "sklearn"])
@pytest.mark.slow  # ~16 s of CPU (2026-12-02)
def test_two_processes_measure_the_same_separability_as_one(tmp_path, engine):
    # exact toy labels: no classifier, so the cost is the mapping and the fits (6 attributes over 2 processes)
    argv = ["metrics", "separability", "--model", "toyfaces-sg2", "--labels", "exact", "--n", "3000", "--seed", "2"]
    argv += ["--engine", engine, "--space", "w", "--quiet"]
    assert main(argv + ["--out", str(tmp_path / "one.json")]) == 0
    launch(argv + ["--out", str(tmp_path / "two.json")])
    one, two = (json.loads((tmp_path / f"{k}.json").read_text()) for k in ("one", "two"))
    assert one["n"] == two["n"] == 3000 and one["attributes"] == two["attributes"]
    a, b = one["result"], two["result"]
    assert len(a["per_attribute"]) > 1
    np.testing.assert_allclose(b["score"], a["score"], rtol=1e-6)
    np.testing.assert_allclose(b["per_attribute"], a["per_attribute"], rtol=1e-6)
    # the fits themselves: equal up to float32 rounding of matmuls over fewer attributes at once
    ca, cb = np.asarray(a["coef"]), np.asarray(b["coef"])
    assert np.all(np.linalg.norm(cb - ca, axis=1) <= 1e-5 * np.linalg.norm(ca, axis=1))


@pytest.mark.slow  # ~6 s of CPU (2026-12-02)
def test_processes_started_with_other_settings_are_refused(tmp_path):
    port = free_port()
    common = ["sample", "--model", MODEL, "--classifier", "none", "--out", str(tmp_path / "ds"), "--quiet"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "latentjax", *common, "--n", str(n)]
            + ["--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(i)]
            + HEARTBEAT,
            env={**os.environ, **ENV},
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, n in enumerate((16, 17))
    ]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    # process 1's settings are bad input (exit 2); process 0 stops because its peer left (exit 1) or,
    # when the settings check reaches it first, with the same input error (exit 2)
    assert procs[1].returncode == 2 and procs[0].returncode in (1, 2), [p.returncode for p in procs]
    assert "error: process 1 was started with other settings than process 0: n: 16" in errs[1], errs[1][-2000:]
    assert "process 1 of 2 stopped" in errs[0], errs[0][-2000:]
