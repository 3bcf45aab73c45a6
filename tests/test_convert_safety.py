"""Hostile, corrupt, truncated, non-StyleGAN and unsupported pickles get clear errors."""

from __future__ import annotations

import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, SHARED

from latentjax import LoadError, UnsafePickleError, UnsupportedModelError, load_generator
from latentjax.convert import read_generator_pickle
from latentjax.convert.safe_pickle import NetworkRecord, restricted_loads
from latentjax.convert.tf_pickle import TF_GLOBALS

SG1 = DATA / "stylegan/r64_fused/network.pkl"
SG2 = DATA / "stylegan2/sg2_r32_z64_m8.pkl"
ADA = DATA / "stylegan2-ada/sg2ada_r32_z64_m8.pkl"


class _Pwn:
    """Unpickling this would create `marker` (pickle calls os-level code via __reduce__)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_hostile_pickle_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"G_ema": _Pwn(marker)}))
    with pytest.raises(UnsafePickleError, match="pathlib"):
        load_generator(evil)
    assert not marker.exists()


def test_hostile_payload_inside_tf_network_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    nets = _tf_state(SG2)
    nets[2].state["static_kwargs"]["resolution"] = _Pwn(marker)
    path = _write_tf(tmp_path, nets)
    with pytest.raises(UnsafePickleError):
        read_generator_pickle(path)
    assert not marker.exists()


def test_embedded_module_source_is_never_executed(tmp_path):
    """NVIDIA's persistence pickles carry Python source the official loader execs; we must not."""
    marker = tmp_path / "pwned"
    mod = types.ModuleType("torch_utils.persistence")

    def _reconstruct_persistent_obj(meta):  # stand-in used only for pickling here
        raise AssertionError

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    mod._reconstruct_persistent_obj = _reconstruct_persistent_obj

    class Obj:
        def __reduce__(self):
            src = f"open({str(marker)!r}, 'w').write('x')\nclass Generator: pass\n"
            meta = dict(type="class", version=6, module_src=src, class_name="Generator", state={})
            return (_reconstruct_persistent_obj, (meta,))

    sys.modules["torch_utils"] = types.ModuleType("torch_utils")
    sys.modules["torch_utils.persistence"] = mod
    try:
        data = pickle.dumps({"G_ema": Obj()}, protocol=3)
    finally:
        del sys.modules["torch_utils.persistence"], sys.modules["torch_utils"]
    path = tmp_path / "snap.pkl"
    path.write_bytes(data)
    with pytest.raises(LoadError, match="synthesis"):
        read_generator_pickle(path)
    assert not marker.exists()


@pytest.mark.parametrize("src", [SG1, SG2, ADA], ids=["sg1", "sg2", "ada"])
@pytest.mark.parametrize("frac", [0.0, 0.001, 0.5, 0.999])
def test_truncated_pickles_raise_load_error(tmp_path, src, frac):
    data = src.read_bytes()
    path = tmp_path / "cut.pkl"
    path.write_bytes(data[: int(len(data) * frac)])
    with pytest.raises(LoadError):
        read_generator_pickle(path)


@pytest.mark.parametrize("src", [SG2, ADA], ids=["sg2", "ada"])
def test_corrupted_bytes_raise_load_error(tmp_path, src):
    data = bytearray(src.read_bytes())
    rng = np.random.default_rng(0)
    for i in rng.integers(2, 4000, size=40):  # scramble the opcode-dense head of the stream
        data[i] = (data[i] + 97) % 256
    path = tmp_path / "bad.pkl"
    path.write_bytes(bytes(data))
    with pytest.raises(LoadError):
        read_generator_pickle(path)


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "empty"),
        (b"hello world", "not a pickle"),
        (b"PK\x03\x04rest", "zip"),
        (pickle.dumps({"weights": np.zeros(3)}), "not a StyleGAN pickle"),
        (pickle.dumps([1, 2, 3]), "not a StyleGAN pickle"),
    ],
    ids=["empty", "text", "zip", "numpy-dict", "list"],
)
def test_not_stylegan_files(tmp_path, content, match):
    path = tmp_path / "x.pkl"
    path.write_bytes(content)
    with pytest.raises(LoadError, match=match):
        load_generator(path)


def test_missing_path_names_the_problem(tmp_path):
    with pytest.raises(LoadError, match="no such file"):
        load_generator(tmp_path / "nope.pkl")
    (tmp_path / "d").mkdir()
    with pytest.raises(LoadError, match="config.json"):
        load_generator(tmp_path / "d")


# ---- fabricated TF pickles: official layout, edited static kwargs / variables ----------------


def _tf_state(path: Path):
    return restricted_loads(path.read_bytes(), TF_GLOBALS, str(path))


def _write_tf(tmp_path: Path, nets) -> Path:
    """Re-pickle NetworkRecords under NVIDIA's class path dnnlib.tflib.network.Network."""
    mods = {n: types.ModuleType(n) for n in ("dnnlib", "dnnlib.tflib", "dnnlib.tflib.network")}

    class Network:
        def __init__(self, state):
            self.state = state

        def __getstate__(self):
            return self.state

    Network.__module__, Network.__qualname__ = "dnnlib.tflib.network", "Network"
    mods["dnnlib.tflib.network"].Network = Network

    def conv(x):
        if isinstance(x, NetworkRecord):
            st = dict(x.state)
            st["components"] = {k: conv(v) for k, v in st["components"].items()}
            return Network(st)
        return x

    sys.modules.update(mods)
    try:
        data = pickle.dumps(tuple(conv(n) for n in nets), protocol=4)
    finally:
        for n in mods:
            del sys.modules[n]
    path = tmp_path / "fab.pkl"
    path.write_bytes(data)
    return path


def test_refabricated_pickle_loads_identically(tmp_path):
    """The fabrication helper itself is faithful (else the tests below would prove nothing)."""
    path = _write_tf(tmp_path, _tf_state(SG2))
    cfg, v = read_generator_pickle(path)
    cfg0, v0 = read_generator_pickle(SG2)
    assert cfg == cfg0
    assert np.array_equal(
        v["params"]["synthesis_network"]["b8_conv0"]["weight"], v0["params"]["synthesis_network"]["b8_conv0"]["weight"]
    )


@pytest.mark.parametrize(
    "src, key, value, match",
    [
        (SG2, "label_size", 10, "label_size=10 is not supported"),
        (SG2, "architecture", "resnet", "architecture='resnet'"),
        (SG2, "some_new_flag", True, "unknown static kwarg some_new_flag"),
        (SG1, "use_pixel_norm", True, "use_pixel_norm=True"),
        (SG1, "nonlinearity", "relu", "nonlinearity='relu'"),
        (SG1, "fused_scale", "sometimes", "fused_scale"),
    ],
)
def test_unsupported_static_kwargs_are_refused(tmp_path, src, key, value, match):
    nets = _tf_state(src)
    nets[2].state["components"]["synthesis"].state["static_kwargs"][key] = value
    with pytest.raises(UnsupportedModelError, match=match):
        read_generator_pickle(_write_tf(tmp_path, nets))


def test_honoured_static_kwargs_change_the_build(tmp_path):
    """fused_scale=False on the fused fixture builds an unfused network (and outputs change)."""
    nets = _tf_state(SG1)
    nets[2].state["components"]["synthesis"].state["static_kwargs"]["fused_scale"] = False
    cfg, _ = read_generator_pickle(_write_tf(tmp_path, nets))
    assert cfg.fused_up == (False,) * 4
    assert read_generator_pickle(SG1)[0].fused_up == (True,) * 4


def test_missing_variable_and_nan_are_named(tmp_path):
    nets = _tf_state(SG2)
    syn = nets[2].state["components"]["synthesis"].state
    syn["variables"] = [(n, v) for n, v in syn["variables"] if n != "8x8/Conv1/mod_bias"]
    with pytest.raises(LoadError, match="8x8/Conv1/mod_bias"):
        read_generator_pickle(_write_tf(tmp_path, nets))
    nets = _tf_state(SG2)
    syn = nets[2].state["components"]["synthesis"].state
    syn["variables"] = [(n, v * np.nan if n == "16x16/Conv0_up/weight" else v) for n, v in syn["variables"]]
    with pytest.raises(LoadError, match="b16_conv0/weight contains NaN"):
        read_generator_pickle(_write_tf(tmp_path, nets))


def test_wrong_shape_is_named(tmp_path):
    nets = _tf_state(SG2)
    syn = nets[2].state["components"]["synthesis"].state
    syn["variables"] = [(n, v[:, :-1] if n == "8x8/Conv1/mod_weight" else v) for n, v in syn["variables"]]
    with pytest.raises(LoadError, match="affine_weight has shape"):
        read_generator_pickle(_write_tf(tmp_path, nets))


def test_mid_growth_lod_is_refused(tmp_path):
    nets = _tf_state(SG1)
    top = nets[2].state
    top["variables"] = [(n, np.float32(1.0) if n == "lod" else v) for n, v in top["variables"]]
    with pytest.raises(UnsupportedModelError, match="lod"):
        read_generator_pickle(_write_tf(tmp_path, nets))


def test_uses_gs_by_default_and_G_on_request():
    """The fixtures' G holds different values than Gs on purpose."""
    _, v_gs = read_generator_pickle(SG2)
    _, v_g = read_generator_pickle(SG2, network="G")
    a = v_gs["params"]["mapping_network"]["fc0_weight"]
    assert not np.allclose(a, v_g["params"]["mapping_network"]["fc0_weight"])


@pytest.mark.skipif(
    not (SHARED / "stylegan2/sg2_r32_z64_m8_G_ema_params.npz").exists(),
    reason="per-tensor reference lives in ../shared/golden",
)
def test_ada_tensors_match_official_conversion_tensor_by_tensor():
    """Every tensor of the PyTorch snapshot equals NVIDIA legacy.py's conversion of the TF pickle."""
    ref = np.load(SHARED / "stylegan2/sg2_r32_z64_m8_G_ema_params.npz")
    _, v = read_generator_pickle(ADA)
    syn, mp = v["params"]["synthesis_network"], v["params"]["mapping_network"]
    buf = v["buffers"]["synthesis_network"]
    checked = 0
    for name in ref.files:
        parts = name.split(".")
        t = ref[name]
        if parts[0] == "mapping" and parts[1].startswith("fc"):
            ours = mp[f"{parts[1]}_{parts[2]}"]
            ours = ours.T if parts[2] == "weight" else ours
        elif name == "mapping.w_avg":
            ours = v["buffers"]["mapping_network"]["w_avg"]
        elif name == "synthesis.b4.const":
            ours = syn["const"].transpose(2, 0, 1)
        elif parts[0] == "synthesis" and parts[-1] != "resample_filter":
            layer = syn[f"{parts[1]}_{parts[2]}"]
            if parts[3] == "affine":
                ours = layer[f"affine_{parts[4]}"]
                ours = ours.T if parts[4] == "weight" else ours
            elif parts[3] == "noise_const":
                ours = buf[f"{parts[1]}_{parts[2]}"]["noise_const"]
            elif parts[3] == "weight":
                w = layer["weight"][::-1, ::-1] if parts[2] == "conv0" else layer["weight"]
                ours = w.transpose(3, 2, 0, 1)
            else:
                ours = layer[parts[3]]
        else:
            continue
        assert np.array_equal(np.asarray(ours), t), name
        checked += 1
    assert checked >= 40
