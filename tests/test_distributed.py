"""latentjax.distributed and the process split of latentjax.sharding: pure parts, in this process.
The runs of several real processes are in test_distributed_procs.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from latentjax.cli import build_parser
from latentjax.distributed import DistributedConfig, cluster_env, initialize, launch_local, parse_coordinator
from latentjax.sharding import process_block, process_items


@given(st.integers(0, 10_000), st.integers(1, 64))
def test_process_blocks_tile_the_rows(n, count):
    blocks = [process_block(n, p, count) for p in range(count)]
    assert blocks[0][0] == 0 and blocks[-1][1] == n
    for (_, a1), (b0, _) in zip(blocks, blocks[1:]):
        assert a1 == b0  # contiguous, in process order, no overlap
    sizes = [b - a for a, b in blocks]
    assert min(sizes) >= 0 and max(sizes) - min(sizes) <= 1


@given(st.lists(st.integers(), max_size=50), st.integers(1, 8))
def test_process_items_partition_round_robin(items, count):
    parts = [process_items(items, p, count) for p in range(count)]
    assert sorted(x for part in parts for x in part) == sorted(items)
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    for p, part in enumerate(parts):
        assert part == items[p::count]


@pytest.mark.parametrize("bad", [(-1, 2), (2, 2), (0, 0)])
def test_process_split_refuses_bad_ids(bad):
    p, count = bad
    with pytest.raises(ValueError, match="process"):
        process_block(10, p, count)
    with pytest.raises(ValueError, match="process"):
        process_items([1, 2], p, count)


@pytest.mark.parametrize(
    "address, expected", [("127.0.0.1:1234", ("127.0.0.1", 1234)), ("node-3.cluster:65535", ("node-3.cluster", 65535))]
)
def test_parse_coordinator(address, expected):
    assert parse_coordinator(address) == expected


@pytest.mark.parametrize("address", ["127.0.0.1", "host:0", "host:70000", ":80", "a b:1", "host:port"])
def test_parse_coordinator_refuses(address):
    with pytest.raises(ValueError, match="--coordinator must be HOST:PORT"):
        parse_coordinator(address)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"coordinator": "127.0.0.1:1"}, "go together"),
        ({"num_processes": 2, "process_id": 0}, "go together"),
        ({"coordinator": "127.0.0.1:1", "num_processes": 0, "process_id": 0}, "--num-processes"),
        (
            {"coordinator": "127.0.0.1:1", "num_processes": 2, "process_id": 2},
            r"--process-id must be an int in \[0, 2\)",
        ),
        ({"coordinator": "127.0.0.1:1", "num_processes": 2, "process_id": -1}, "--process-id"),
        ({"heartbeat_timeout": 0}, "heartbeat_timeout must be >= 1 s"),
        ({"init_timeout": -5}, "init_timeout must be >= 1 s"),
    ],
)
def test_config_refuses_partial_or_bad_flags(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DistributedConfig(**kwargs)


def test_cluster_env_detection():
    assert cluster_env({}) is None
    assert cluster_env({"JAX_COORDINATOR_ADDRESS": "h:1"}) == "JAX_COORDINATOR_ADDRESS"
    assert cluster_env({"SLURM_JOB_ID": "7", "SLURM_NTASKS": "1"}) is None  # one task: not a job of several
    assert cluster_env({"SLURM_JOB_ID": "7", "SLURM_NTASKS": "4"}) == "SLURM"
    assert cluster_env({"OMPI_COMM_WORLD_SIZE": "2"}) == "Open MPI"
    assert cluster_env({"TPU_WORKER_HOSTNAMES": "a,b"}) == "TPU pod"


def test_initialize_without_flags_or_environment_stays_single_process(monkeypatch):
    for k in ("JAX_COORDINATOR_ADDRESS", "SLURM_JOB_ID", "OMPI_COMM_WORLD_SIZE", "TPU_WORKER_HOSTNAMES"):
        monkeypatch.delenv(k, raising=False)
    assert initialize(DistributedConfig()) == 1


@pytest.mark.parametrize("command", ["sample", "generate", "metrics separability", "directions fit", "project"])
def test_heavy_commands_take_the_flags(command):
    argv = command.split() + ["--coordinator", "10.0.0.1:7", "--num-processes", "3", "--process-id", "2"]
    extra = {"sample": ["--n", "1", "--out", "x"], "directions fit": ["--data", "d"], "project": ["img.png"]}
    args = build_parser().parse_args(argv + extra.get(command, []) + ["--heartbeat-timeout", "20"])
    assert (args.coordinator, args.num_processes, args.process_id) == ("10.0.0.1:7", 3, 2)
    assert args.heartbeat_timeout == 20


@pytest.mark.parametrize("metric", ["ppl", "dci", "scores"])
def test_metrics_take_the_flags(metric):
    argv = ["metrics", metric, "--num-processes", "2", "--coordinator", "h:1", "--process-id", "1"]
    assert build_parser().parse_args(argv).num_processes == 2


def test_launch_refuses_bad_requests():
    with pytest.raises(ValueError, match="-n must be >= 1"):
        launch_local(["sample"], 0)
    with pytest.raises(ValueError, match="no command"):
        launch_local([], 2)
    with pytest.raises(ValueError, match="cannot launch itself"):
        launch_local(["launch", "-n", "2"], 2)


@pytest.mark.slow  # ~8 s of CPU (2026-12-02)
def test_separability_fit_over_the_global_mesh_matches_the_single_process_fit():
    # the multi-process "jax" path (attributes over the global mesh, shard_map) run on this process's mesh
    import numpy as np

    from latentjax.metrics import separability as S

    rng = np.random.RandomState(0)
    x = rng.randn(600, 6)
    probs = 1 / (1 + np.exp(-(x[:, :3] @ rng.randn(3, 3) * 2 + rng.randn(600, 3))))
    idx, labels = S.confident_subset(probs), probs > 0.5
    one = S._fit_jax(x, idx, labels, "squared_hinge", 1.0, 50, 1e-5)
    mesh = S._fit_jax_global(x, idx, labels, "squared_hinge", 1.0, 50, 1e-5)
    assert np.array_equal(one[0], mesh[0])  # joints: the score's only input
    np.testing.assert_allclose(mesh[1], one[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mesh[2], one[2], rtol=1e-5, atol=1e-6)
    assert one[0].sum(axis=(1, 2)).tolist() == [300] * 3  # every kept sample counted once


def test_launch_refuses_a_command_without_the_job_flags_before_starting_processes(capsys):
    from latentjax.cli import main

    with pytest.raises(SystemExit) as e:
        main(["launch", "-n", "2", "--", "convert", "a.pkl", "b"])
    assert e.value.code == 2
    assert "unrecognized arguments: --coordinator" in capsys.readouterr().err
