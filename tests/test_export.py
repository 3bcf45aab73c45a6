"""`latentjax convert SRC out.pt | out.pkl`: rosinality checkpoints and NVIDIA TF-era pickles
written without torch or NVIDIA's code. No torch here: the files are checked by structure
(zip entries, pickle opcodes and globals) and by round trips through our own loaders; the
real consumers are checked by scripts/verify_exports_official.py (numbers in its commit)."""

from __future__ import annotations

import dataclasses
import pickle
import pickletools
import struct
import types
import zipfile
from pathlib import Path

import jax
import numpy as np
import pytest
from conftest import DATA
from hypothesis import given, settings
from hypothesis import strategies as st

from latentjax import GeneratorConfig, load_generator
from latentjax.errors import ExportError
from latentjax.export import convert_model
from latentjax.export.nvidia_pickle import fmap_for_widths
from latentjax.export.pickler import Global, dumps
from latentjax.export.rosinality import channel_multiplier

SG2 = DATA / "stylegan2/sg2_r32_z64_m8.pkl"  # NVIDIA TF pickle + official outputs
ADA = DATA / "stylegan2-ada/sg2ada_r32_z64_m8.pkl"  # conv_clamp 256, same weights and outputs
M8 = DATA / "rosinality/ros_r32_s64_m8.pt"
TOL = 2e-4

_cache: dict = {}


def loaded(src):
    if src not in _cache:
        _cache[src] = load_generator(src)
    return _cache[src]


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Every export the tests inspect, written once: {(source, suffix): path}."""
    d = tmp_path_factory.mktemp("exports")
    out = {}
    for name, src in (("toy", "toyfaces-sg2"), ("sg2", SG2), ("m8", M8), ("ada", ADA)):
        for suffix in (".pt", ".pkl"):
            if (name, suffix) == ("m8", ".pkl"):
                continue
            path = d / f"{name}{suffix}"
            out[(name, suffix)] = (convert_model(src, path, drop_conv_clamp=True), path)
    return out


def nchw(img) -> np.ndarray:
    return np.asarray(img).transpose(0, 3, 1, 2)


def err(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


def globals_of(data: bytes) -> set[str]:
    """Every global a pickle names (GLOBAL opcodes; we never write STACK_GLOBAL)."""
    ops = list(pickletools.genops(data))
    assert not [op for op, _, _ in ops if op.name == "STACK_GLOBAL"]
    return {str(arg) for op, arg, _ in ops if op.name == "GLOBAL"}


# ---- pickler --------------------------------------------------------------------------------

plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda c: st.lists(c, max_size=4) | st.tuples(c) | st.tuples(c, c, c, c) | st.dictionaries(st.text(max_size=5), c),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(plain, st.sampled_from([2, 3, 4]))
def test_pickler_round_trips_plain_data(obj, protocol):
    data = dumps(obj, protocol)
    assert data[:2] == b"\x80" + bytes([protocol]) and data[-1:] == b"."
    assert pickle.loads(data) == obj


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=600))
def test_pickler_bytes_need_protocol_3(b):
    assert pickle.loads(dumps(b, 4)) == b
    with pytest.raises(TypeError, match="protocol 3"):
        dumps(b, 2)


def test_pickler_writes_globals_without_importing_them():
    data = dumps([Global("no_such_module", "thing")], 2)
    assert globals_of(data) == {"no_such_module thing"}
    with pytest.raises(ModuleNotFoundError):
        pickle.loads(data)
    with pytest.raises(TypeError, match="cannot pickle"):
        dumps(object())


# ---- rosinality .pt -------------------------------------------------------------------------

TORCH_ALLOWED = {"torch._utils _rebuild_tensor_v2", "torch FloatStorage", "collections OrderedDict"}


@pytest.mark.slow  # ~3 s of CPU (2026-12-02)
def test_pt_file_structure(exports):
    """torch.save's zip layout: data.pkl (protocol 2, only weights_only-safe globals), byteorder,
    64-byte aligned data/<key>, version; stored uncompressed."""
    _, path = exports[("toy", ".pt")]
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert names[0] == "toy/data.pkl" and names[1] == "toy/byteorder" and names[-1] == "toy/version"
        assert z.read("toy/byteorder") == b"little" and z.read("toy/version") == b"3\n"
        keys = [n for n in names if n.startswith("toy/data/")]
        assert keys == [f"toy/data/{i}" for i in range(len(keys))]
        for info in z.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
            if info.filename.startswith("toy/data/"):
                n, e = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
                assert (info.header_offset + 30 + n + e) % 64 == 0
        pkl = z.read("toy/data.pkl")
    assert pkl[:2] == b"\x80\x02"
    assert globals_of(pkl) == TORCH_ALLOWED
    storages = sum(op.name == "BINPERSID" for op, _, _ in pickletools.genops(pkl))
    # one storage per tensor: g_ema's 99 (16 mapping, const, 9 x 5 conv, 4 blur + 4 upsample
    # kernels, 5 x 4 ToRGB, 9 noise maps) and latent_avg
    assert storages == len(keys) == 100


def test_pt_args_and_notes(exports):
    r, path = exports[("toy", ".pt")]
    from latentjax.convert.rosinality import ROSINALITY_GLOBALS
    from latentjax.convert.torch_storage import load_torch_file

    ckpt = load_torch_file(path.read_bytes(), ROSINALITY_GLOBALS, str(path))
    assert set(ckpt) == {"g_ema", "latent_avg", "args"}
    a = ckpt["args"]
    assert type(a) is dict  # a plain dict: torch.load(weights_only=True) accepts it
    assert (a["size"], a["style_dim"], a["latent"], a["n_mlp"], a["z_dim"]) == (64, 128, 128, 8, 64)
    assert a["channels"] == {4: 128, 8: 128, 16: 64, 32: 32, 64: 16} and a["channel_multiplier"] is None
    assert a["blur_kernel"] == [1, 3, 3, 1] and a["lr_mlp"] == 0.01
    notes = " ".join(r.notes)
    assert "zero-padded to 128 inputs" in notes and "x100" in notes and "channel_multiplier" in notes
    sd = ckpt["g_ema"]
    assert sd["style.1.weight"].shape == (128, 128) and not sd["style.1.weight"][:, 64:].any()
    assert sd["convs.0.conv.blur.kernel"].sum() == pytest.approx(4.0)
    assert list(sd)[:3] == ["style.1.weight", "style.1.bias", "style.2.weight"]
    assert list(sd)[-1] == "noises.noise_8"


def test_pt_round_trip_of_a_rosinality_file_is_bit_exact(exports):
    """rosinality .pt -> ours -> .pt -> ours: every variable identical."""
    G0, G1 = loaded(M8), load_generator(exports[("m8", ".pt")][1])
    assert G1.config == G0.config
    same = jax.tree_util.tree_map(lambda a, b: bool(np.array_equal(a, b)), G0.variables, G1.variables)
    assert all(jax.tree_util.tree_leaves(same))


@pytest.mark.slow  # ~3 s of CPU (2026-12-02)
def test_pt_from_official_pickle_renders_nvidia_images(exports):
    """NVIDIA TF pickle -> .pt -> our rosinality reader: NVIDIA's own outputs (stored noise,
    explicit noise maps, truncation)."""
    G = load_generator(exports[("sg2", ".pt")][1])
    d = np.load(SG2.with_suffix(".npz"))
    assert err(G.mapping(d["z"]), d["ws"]) <= 1e-4
    assert err(nchw(G.synthesis(d["ws"])), d["img_const"]) <= TOL
    assert err(nchw(G(d["z"], 0.7)), d["img_trunc07_const"]) <= TOL
    noise = [d[k] for k in d.files if k.startswith("noise_random.")]
    assert err(nchw(G.synthesis(d["ws"], noise=noise)), d["img_random"]) <= TOL


def test_pt_toy_model_with_narrow_z(exports):
    """z_dim 64 < w_dim 128 and lr_mul 1: zero-padded z maps to the same w (padding and lr
    folding are exact), and the synthesis network comes back bit for bit, so images from the
    same ws are identical."""
    G0 = loaded("toyfaces-sg2")
    G1 = load_generator(exports[("toy", ".pt")][1])
    assert (G1.config.z_dim, G1.config.w_dim, G1.config.mapping_lr_mul) == (128, 128, 0.01)
    z = np.random.RandomState(0).randn(3, 64).astype(np.float32)
    z_pad = np.concatenate([z, np.zeros_like(z)], axis=1)
    ws0 = G0.mapping(z, 0.7)
    assert err(G1.mapping(z_pad, 0.7), ws0) <= 1e-5 * float(np.abs(ws0).max())
    assert err(G1.w_avg, G0.w_avg) == 0.0
    syn = [v["synthesis_network"] for v in (G0.variables["params"], G1.variables["params"])]
    same = jax.tree_util.tree_map(lambda a, b: bool(np.array_equal(a, b)), *syn)
    assert all(jax.tree_util.tree_leaves(same))
    noise = [v["buffers"]["synthesis_network"] for v in (G0.variables, G1.variables)]
    assert all(jax.tree_util.tree_leaves(jax.tree_util.tree_map(np.array_equal, *noise)))
    assert dataclasses.replace(G1.config, z_dim=64, mapping_lr_mul=1.0) == G0.config  # synthesis: same build


# ---- NVIDIA TF-era pickle -------------------------------------------------------------------

NVIDIA_GLOBALS = {
    "dnnlib.tflib.network Network",
    "numpy.core.multiarray _reconstruct",
    "numpy.core.multiarray scalar",
    "numpy ndarray",
    "numpy dtype",
}
# static kwargs NVIDIA's legacy.py accepts (anything else makes it raise), read from its source
LEGACY_G_KWARGS = {
    "latent_size", "label_size", "dlatent_size", "resolution", "num_channels", "mapping_layers", "label_fmaps",
    "mapping_fmaps", "mapping_nonlinearity", "mapping_lrmul", "w_avg_beta", "fmap_base", "fmap_max",
    "num_fp16_res", "conv_clamp", "architecture", "resample_kernel", "use_noise", "nonlinearity",
    "truncation_psi", "truncation_cutoff", "style_mixing_prob", "structure",
}  # fmt: skip
LEGACY_D_KWARGS = {
    "label_size", "resolution", "num_channels", "architecture", "fmap_base", "fmap_max", "num_fp16_res",
    "conv_clamp", "mapping_fmaps", "nonlinearity", "resample_kernel", "freeze_layers", "mapping_layers",
    "mapping_lrmul", "mbstd_group_size", "mbstd_num_features", "structure",
}  # fmt: skip


def _networks(path: Path):
    from latentjax.convert.safe_pickle import restricted_loads
    from latentjax.convert.tf_pickle import TF_GLOBALS

    return restricted_loads(path.read_bytes(), TF_GLOBALS, str(path))


def test_pkl_structure_and_untrained_d(exports):
    r, path = exports[("toy", ".pkl")]
    data = path.read_bytes()
    assert data[:2] == b"\x80\x04" and globals_of(data) == NVIDIA_GLOBALS
    G, D, Gs = _networks(path)
    keys = {"version", "name", "static_kwargs", "components", "build_module_src", "build_func_name", "variables"}
    for net, name, func in ((G, "G", "G_main"), (D, "D", "D_stylegan2"), (Gs, "Gs", "G_main")):
        assert keys <= set(net.state) and net.state["version"] == 4
        assert (net.state["name"], net.state["build_func_name"]) == (name, func)
        assert "latentjax" in net.state["build_module_src"] and "import" not in net.state["build_module_src"]
    assert set(Gs.state["static_kwargs"]) <= LEGACY_G_KWARGS and set(D.state["static_kwargs"]) <= LEGACY_D_KWARGS
    assert Gs.state["components"]["synthesis"].state["build_func_name"] == "G_synthesis_stylegan2"
    assert "UNTRAINED" in D.state["untrained"] and "UNTRAINED" in D.state["build_module_src"]
    assert any("UNTRAINED" in n for n in r.notes)
    dv = dict(D.state["variables"])
    assert dv["64x64/FromRGB/weight"].shape == (1, 1, 3, 16) and dv["4x4/Conv/weight"].shape == (3, 3, 129, 128)
    assert dv["4x4/Dense0/weight"].shape == (2048, 128) and dv["Output/bias"].shape == (1,)
    sv = dict(Gs.state["components"]["synthesis"].state["variables"])
    assert isinstance(sv["4x4/Conv/noise_strength"], np.float32) and sv["noise0"].shape == (1, 1, 4, 4)
    assert all(v.dtype == np.float32 for v in sv.values())


@pytest.mark.parametrize("name, src", [("toy", "toyfaces-sg2"), ("ada", ADA)])
@pytest.mark.slow  # ~4 s of CPU (2026-12-02)
def test_pkl_round_trip(exports, name, src):
    """Our loader reads the written pickle back: same config (conv_clamp included), variables
    equal up to the float32 rounding of TF's mod_bias - 1 + 1, same images."""
    G0, G1 = loaded(src), load_generator(exports[(name, ".pkl")][1])
    assert G1.config == G0.config
    diff = jax.tree_util.tree_map(lambda a, b: float(np.abs(a - b).max()), G0.variables, G1.variables)
    assert max(jax.tree_util.tree_leaves(diff)) <= 1e-6
    if name == "ada":  # rendering the 64x64 toy model too would only re-prove the line above
        d = np.load(SG2.with_suffix(".npz"))  # the ADA fixture's official outputs
        assert err(nchw(G1(d["z"], 0.7)), d["img_trunc07_const"]) <= TOL


def _tf_vars(net) -> list:
    """[(network/component path, variable name, value)] of a Network record, in stored order."""
    out = [(net.state["name"], n, np.asarray(v)) for n, v in net.state["variables"]]
    for c in net.state["components"].values():
        out += _tf_vars(c)
    return out


def test_pkl_from_ada_snapshot_reproduces_the_original_tf_pickle(exports):
    """The ADA fixture was made from the TF fixture by NVIDIA's legacy.py. Exporting it back gives
    that TF pickle again: same networks, variable names and order, static kwargs (plus the ADA
    conv_clamp and the stddev group NVIDIA's D stores), D exact, G/Gs up to mod_bias rounding."""
    ours, gold = _networks(exports[("ada", ".pkl")][1]), _networks(SG2)
    for a, b in zip(ours, gold):
        va, vb = _tf_vars(a), _tf_vars(b)
        assert [x[:2] for x in va] == [x[:2] for x in vb]
        tol = 0.0 if b.state["name"] == "D" else 1e-7
        assert max(float(np.abs(x[2] - y[2]).max()) for x, y in zip(va, vb)) <= tol
        extra = set(a.state["static_kwargs"]) - set(b.state["static_kwargs"])
        assert extra <= {"conv_clamp", "mapping_layers", "mapping_lrmul", "mbstd_group_size", "mbstd_num_features"}
        assert {k: a.state["static_kwargs"][k] for k in b.state["static_kwargs"]} == b.state["static_kwargs"]
    assert "untrained" not in ours[1].state


def test_pkl_from_tf_pickle_carries_d_and_g(exports):
    r, path = exports[("sg2", ".pkl")]
    D, D0 = _networks(path)[1], _networks(SG2)[1]
    assert D.state["static_kwargs"] == D0.state["static_kwargs"]
    assert all(np.array_equal(x[2], y[2]) for x, y in zip(_tf_vars(D), _tf_vars(D0)))
    assert "D carried over" in " ".join(r.notes) and "training generator" in " ".join(r.notes)
    from latentjax.convert import read_generator_pickle

    _, g_ours = read_generator_pickle(path, "G")
    _, g_src = read_generator_pickle(SG2, "G")  # the fixture's G differs from Gs on purpose
    diff = jax.tree_util.tree_map(lambda a, b: float(np.abs(a - b).max()), g_ours, g_src)
    assert max(jax.tree_util.tree_leaves(diff)) <= 1e-6


def test_untrained_d_matches_the_generator_widths(exports):
    _, D, Gs = _networks(exports[("toy", ".pkl")][1])
    kw = Gs.state["static_kwargs"]
    assert (kw["fmap_base"], kw["fmap_max"]) == (512, 128)  # min(1024 // r, 128) = 128, 128, 64, 32, 16
    assert {k: D.state["static_kwargs"][k] for k in ("fmap_base", "fmap_max", "resolution")} == {
        "fmap_base": 512,
        "fmap_max": 128,
        "resolution": 64,
    }


@settings(max_examples=80, deadline=None)
@given(st.integers(3, 10), st.integers(4, 2**14), st.integers(1, 1024))
def test_fmap_for_widths_inverts_nvidia_rule(log2_res, half_base, cmax):
    """Widths made by NVIDIA's rule min(channel_base // res, channel_max) are recovered."""
    res = 2**log2_res
    widths = tuple(min(2 * half_base // 2**i, cmax) for i in range(2, log2_res + 1))
    if min(widths) < 1:
        return
    cfg = GeneratorConfig("stylegan2", res, z_dim=8, w_dim=8, channels=widths)
    fb, fm = fmap_for_widths(cfg)
    assert tuple(min(2 * fb // r, fm) for r in cfg.block_resolutions) == widths


def test_channel_multiplier_of_real_configs():
    ffhq = GeneratorConfig("stylegan2", 1024, 512, 512, channels=(512, 512, 512, 512, 512, 256, 128, 64, 32))
    assert channel_multiplier(ffhq) == 2
    paper256 = GeneratorConfig("stylegan2", 256, 512, 512, channels=(512, 512, 512, 512, 256, 128, 64))
    assert channel_multiplier(paper256) == 1
    odd = GeneratorConfig("stylegan2", 64, 512, 512, channels=(512, 512, 512, 512, 300))
    assert channel_multiplier(odd) is None


# ---- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "src, out, opts, match",
    [
        (DATA / "stylegan/r64_fused/network.pkl", "x.pt", {}, "stylegan generator; rosinality"),
        (DATA / "stylegan/r64_fused/network.pkl", "x.pkl", {}, "stylegan generator; the TF-era"),
        (ADA, "x.pt", {}, "conv_clamp"),
    ],
    ids=["sg1-pt", "sg1-pkl", "ada-clamp-pt"],
)
def test_refusals_write_nothing(tmp_path, src, out, opts, match):
    with pytest.raises(ExportError, match=match):
        convert_model(src, tmp_path / out, **opts)
    assert list(tmp_path.iterdir()) == []


def test_inexpressible_configs_are_refused():
    from latentjax.export.nvidia_pickle import nvidia_networks
    from latentjax.export.rosinality import rosinality_checkpoint

    def cfg(**kw):
        base = dict(arch="stylegan2", resolution=16, z_dim=8, w_dim=8, channels=(8, 8, 4), mapping_fmaps=8)
        return GeneratorConfig(**{**base, **kw})

    for c, match in (
        (cfg(img_channels=1), "hard-wired to 3"),
        (cfg(z_dim=16), "wider than w"),
        (cfg(mapping_fmaps=16), "wider than w"),
        (cfg(normalize_latents=False), "pixel-normalise"),
        (cfg(resample_taps=(1, 2, 1)), "4-tap"),
    ):
        with pytest.raises(ExportError, match=match):
            rosinality_checkpoint(c, variables=None)  # refused before any weight is read
    sg3 = types.SimpleNamespace(arch="stylegan3", name="sg3")  # whatever config StyleGAN3 gets, it is refused
    with pytest.raises(ExportError, match="stylegan3 generator; rosinality"):
        rosinality_checkpoint(sg3, variables=None)
    with pytest.raises(ExportError, match="stylegan3 generator; the TF-era"):
        nvidia_networks(sg3, variables=None)
    c = cfg(channels=(4, 8, 8))  # widths growing with resolution: no (fmap_base, fmap_max) gives them
    with pytest.raises(ExportError, match="min\\(channel_base"):
        nvidia_networks(c, variables=None)
    with pytest.raises(ExportError, match="pixel-normalise"):
        nvidia_networks(cfg(normalize_latents=False), variables=None)


def test_existing_output_needs_overwrite(tmp_path):
    out = tmp_path / "m.pt"
    out.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        convert_model(M8, out)
    assert out.read_bytes() == b"keep"
    convert_model(M8, out, overwrite=True)
    assert zipfile.is_zipfile(out)


def test_cli_prints_args_and_untrained_d(tmp_path, capsys):
    from latentjax.cli import main

    assert main(["convert", str(M8), str(tmp_path / "m.pt")]) == 0
    out = capsys.readouterr().out
    assert "rosinality .pt" in out and "'size': 32" in out and "'n_mlp': 8" in out
    assert main(["convert", str(M8), str(tmp_path / "m.pkl")]) == 0
    assert "UNTRAINED" in capsys.readouterr().out
    assert main(["convert", str(ADA), str(tmp_path / "a.pt")]) == 2
    assert "--drop-conv-clamp" in capsys.readouterr().err
