"""Check `latentjax convert SRC out.pt|out.pkl` against the real consumers of those files.

Exports a few models with latentjax, renders reference images with latentjax from the *source*
models, then runs (in a separate virtualenv with torch, from unmodified source trees that are
never copied into this project):
- rosinality/stylegan2-pytorch: `torch.load(out.pt, weights_only=True)`,
  `Generator(...).load_state_dict(ckpt["g_ema"], strict=True)`, images in every noise mode,
  truncation with the stored latent_avg, W+ input and style mixing;
- NVIDIA stylegan2-ada-pytorch and stylegan3: `legacy.load_network_pkl(out.pkl)`, G_ema images
  (z, truncation, W+ with zero noise), D runs; for NVIDIA sources, G, D and G_ema equal what
  `legacy.load_network_pkl(source)` gives.
Prints the max abs difference of every case (target <= 2e-4).

  python3 scripts/verify_exports_official.py --python ~/official-venv/bin/python \\
      --rosinality ~/src/stylegan2-pytorch --ada ~/src/stylegan2-ada-pytorch --sg3 ~/src/stylegan3

rosinality's op/ package compiles CUDA/C++ extensions when imported; on the CPU its pure-PyTorch
paths run instead, so the official side replaces `torch.utils.cpp_extension.load` by a stub
before importing it (nothing is built). NVIDIA's dnnlib imports `requests` (for URLs only): a
stand-in module is registered when the virtualenv lacks it. Models whose widths are not rosinality's hard-coded
ones get them through a Generator subclass that substitutes `self.channels` (args["channels"]).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

TOL = 2e-4
ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(os.environ.get("LATENTJAX_GOLDEN", ROOT.parent / "shared" / "golden"))


# ---- official side (runs under the torch virtualenv; imports neither jax nor latentjax) --------


def _official(work: Path, which: str, src: str) -> None:
    import torch

    torch.set_num_threads(2)
    cases = json.loads((work / "cases.json").read_text())
    out = {}
    sys.path.insert(0, src)
    if which == "rosinality":
        import types

        import torch.utils.cpp_extension as ext

        ext.load = lambda *a, **k: types.SimpleNamespace()  # op/ imports build nothing; CPU uses native paths
        import model as ros

        class WidthGenerator(ros.Generator):
            widths = None

            def __setattr__(self, name, value):
                if name == "channels" and type(self).widths is not None:
                    value = {**value, **type(self).widths}
                super().__setattr__(name, value)

        for name, c in cases.items():
            if not c["pt"]:
                continue
            ckpt = torch.load(work / f"{name}.pt", weights_only=True)
            a = ckpt["args"]
            cls = ros.Generator
            if a["channel_multiplier"] is None:
                WidthGenerator.widths = {int(k): v for k, v in a["channels"].items()}
                cls = WidthGenerator
            g = cls(a["size"], a["style_dim"], a["n_mlp"], channel_multiplier=a["channel_multiplier"] or 2)
            g.load_state_dict(ckpt["g_ema"], strict=True)
            g.eval()
            d = np.load(work / f"{name}_in.npz")
            z, z2 = (torch.from_numpy(np.pad(d[k], ((0, 0), (0, a["style_dim"] - d[k].shape[1])))) for k in ("z", "z2"))
            ws = torch.from_numpy(d["ws"])
            noise = [torch.from_numpy(d[f"noise.{j}"][:, None]) for j in range(g.num_layers)]
            zero = [torch.zeros_like(n[:1]) for n in noise]
            avg = ckpt["latent_avg"]
            with torch.no_grad():
                r = {
                    "styles": g.style(z),
                    "img_const": g([z], randomize_noise=False)[0],
                    "img_trunc07": g([z], truncation=0.7, truncation_latent=avg, randomize_noise=False)[0],
                    "img_wplus": g([ws], input_is_latent=True, randomize_noise=False)[0],
                    "img_noise": g([z], noise=noise)[0],
                    "img_zero_noise": g([z], noise=zero)[0],
                    "img_mix": g([z, z2], inject_index=3, randomize_noise=False)[0],
                }
            out[name] = {k: v.numpy() for k, v in r.items()}
            out[name]["strict_load"] = np.array(1.0)
            out[name]["stock_generator"] = np.array(float(cls is ros.Generator))
    else:
        import types

        sys.modules.setdefault("requests", types.ModuleType("requests"))  # dnnlib.util imports it for URLs only
        import legacy

        for name, c in cases.items():
            if not c["pkl"]:
                continue
            with open(work / f"{name}.pkl", "rb") as f:
                data = legacy.load_network_pkl(f)
            G, D = data["G_ema"].eval(), data["D"].eval()
            d = np.load(work / f"{name}_in.npz")
            z, ws = torch.from_numpy(d["z"]), torch.from_numpy(d["ws"])
            with torch.no_grad():
                img = G(z, None, noise_mode="const", force_fp32=True)
                r = {
                    "ws": G.mapping(z, None),
                    "img_const": img,
                    "img_trunc07": G(z, None, truncation_psi=0.7, noise_mode="const", force_fp32=True),
                    "img_zero_noise_wplus": G.synthesis(ws, noise_mode="none", force_fp32=True),
                    "D_logits": D(img, None),
                }
            out[name] = {k: v.numpy() for k, v in r.items()}
            if c["orig"]:  # an NVIDIA source: our file must convert to the very same G, D and G_ema
                with open(c["orig"], "rb") as f:
                    orig = legacy.load_network_pkl(f)
                for key in ("G", "D", "G_ema"):
                    a, b = data[key].state_dict(), orig[key].state_dict()
                    assert a.keys() == b.keys(), key
                    out[name][f"diff_{key}_vs_source"] = np.array(max(float((a[k] - b[k]).abs().max()) for k in a))
    np.savez(work / f"official_{which}.npz", **{f"{n}/{k}": v for n, r in out.items() for k, v in r.items()})


# ---- our side -------------------------------------------------------------------------------


def _models() -> dict:
    """name -> (source for convert_model, write .pt, write .pkl, drop_conv_clamp)."""
    return {
        "toyfaces_sg2": ("toyfaces-sg2", True, True, False),
        "ros_m8": (GOLDEN / "rosinality/ros_r32_s64_m8.pt", True, True, False),
        "ros_m2_legacy": (GOLDEN / "rosinality/ros_r32_s64_m2.pt", True, False, False),
        "sg2_tf": (GOLDEN / "stylegan2/sg2_r32_z64_m8.pkl", True, True, False),
        "sg2ada_clamp": (ROOT / "tests/data/stylegan2-ada/sg2ada_r32_z64_m8.pkl", True, True, True),
        "stock_widths": (None, True, True, False),  # built below: 512 wide, loads into an unpatched Generator
    }


def _stock_model(work: Path) -> Path:
    """A random 8x8 generator with rosinality's own widths (512 at 4 and 8), perturbed so biases
    and noise strengths are non-zero, saved as our checkpoint."""
    import jax

    from latentjax.checkpoint import save_generator
    from latentjax.config import GeneratorConfig
    from latentjax.nets.network import init_variables

    cfg = GeneratorConfig("stylegan2", 8, z_dim=64, w_dim=64, channels=(512, 512), mapping_layers=2, mapping_fmaps=64)
    v = init_variables(cfg, jax.random.key(3))
    leaves, tree = jax.tree_util.tree_flatten(v["params"])
    keys = jax.random.split(jax.random.key(4), len(leaves))
    v = {**v, "params": tree.unflatten([a + 0.3 * jax.random.normal(k, a.shape) for a, k in zip(leaves, keys)])}
    return save_generator(work / "stock_src", cfg, v)


def _ours(work: Path, only: set[str] | None = None) -> dict:
    if str(ROOT) not in sys.path:  # this checkout's latentjax, not an installed one
        sys.path.insert(0, str(ROOT))
    from latentjax import load_generator
    from latentjax.export import convert_model
    from latentjax.latent import style_mix

    cases = {}
    rng = np.random.RandomState(123)
    for name, (src, pt, pkl, drop) in _models().items():
        if only and name not in only:
            continue
        src = _stock_model(work) if src is None else src
        G = load_generator(src)
        c = G.config
        z, z2 = (rng.randn(4, c.z_dim).astype(np.float32) for _ in range(2))
        ws = np.asarray(G.mapping(rng.randn(4, c.z_dim).astype(np.float32)))
        ws = ws + 0.3 * rng.randn(*ws.shape).astype(np.float32)  # a W+ with different rows
        noise = [rng.randn(4, h, w).astype(np.float32) for h, w in G.noise_shapes]
        inp = {"z": z, "z2": z2, "ws": ws, **{f"noise.{j}": n for j, n in enumerate(noise)}}
        np.savez(work / f"{name}_in.npz", **inp)
        w = G.mapping(z)
        ref = {
            "styles": np.asarray(w[:, 0]),
            "ws": np.asarray(w),
            "img_const": G.synthesis(w),
            "img_trunc07": G(z, 0.7),
            "img_wplus": G.synthesis(ws),
            "img_noise": G.synthesis(w, noise=noise),
            "img_zero_noise": G.synthesis(w, noise_mode="none"),
            "img_zero_noise_wplus": G.synthesis(ws, noise_mode="none"),
            "img_mix": G.synthesis(style_mix(w, G.mapping(z2), 3)),
        }
        ref = {k: np.asarray(v).transpose(0, 3, 1, 2) if v.ndim == 4 else np.asarray(v) for k, v in ref.items()}
        np.savez(work / f"{name}_ours.npz", **ref)
        for suffix, on in ((".pt", pt), (".pkl", pkl)):
            if on:
                r = convert_model(src, work / f"{name}{suffix}", drop_conv_clamp=drop)
                print(f"exported {name}{suffix}: " + " | ".join(r.notes[:1]))
        # legacy.py must load the original too: TF pickles; the ADA fixture's snapshot stores no
        # module source (legacy cannot rebuild it), but it was made from the TF fixture, so that one
        orig = {"sg2_tf": str(src), "sg2ada_clamp": str(GOLDEN / "stylegan2/sg2_r32_z64_m8.pkl")}.get(name, "")
        cases[name] = {"pt": pt, "pkl": pkl, "orig": orig}
    (work / "cases.json").write_text(json.dumps(cases))
    return cases


def _compare(work: Path, cases: dict, which: str) -> bool:
    theirs = np.load(work / f"official_{which}.npz")
    ok = True
    for name in cases:
        if not cases[name]["pt" if which == "rosinality" else "pkl"]:
            continue
        ours = np.load(work / f"{name}_ours.npz")
        keys = sorted({k.split("/", 1)[1] for k in theirs.files if k.startswith(name + "/")})
        row = []
        for k in keys:
            t = theirs[f"{name}/{k}"]
            if k in ours.files:
                e = float(np.abs(t - ours[k]).max())
                ok &= e <= TOL
                row.append(f"{k} {e:.1e}")
            elif k.startswith("diff_"):
                ok &= float(t) <= 1e-6  # TF's mod_bias is stored - 1: one float32 rounding
                row.append(f"{k} {float(t):.1e}")
            elif k == "D_logits":
                ok &= bool(np.all(np.isfinite(t)))
                row.append(f"D runs ({t.shape[0]} logits, finite: {bool(np.all(np.isfinite(t)))})")
            elif k == "stock_generator":  # information: unpatched Generator, or widths substituted
                row.append("stock Generator" if float(t) == 1.0 else "Generator with args['channels'] widths")
            else:
                ok &= float(t) == 1.0
                row.append(f"{k} {'yes' if float(t) == 1.0 else 'NO'}")
        print(f"  {which:<11} {name:<14} " + ", ".join(row))
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", required=True, help="python of a virtualenv with torch")
    ap.add_argument("--rosinality", help="rosinality/stylegan2-pytorch source tree")
    ap.add_argument("--ada", help="NVlabs/stylegan2-ada-pytorch source tree")
    ap.add_argument("--sg3", help="NVlabs/stylegan3 source tree")
    ap.add_argument("--only", help="comma-separated model names (default: all): " + ", ".join(_models()))
    ap.add_argument("--official", nargs=3, metavar=("WORK", "WHICH", "SRC"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.official:
        _official(Path(args.official[0]), args.official[1], args.official[2])
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = _ours(work, set(args.only.split(",")) if args.only else None)
        ok = True
        for which, src in (("rosinality", args.rosinality), ("ada", args.ada), ("sg3", args.sg3)):
            if not src:
                continue
            cmd = [args.python, __file__, "--python", args.python, "--official", str(work), which, str(Path(src))]
            subprocess.run(cmd, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
            ok &= _compare(work, cases, which)
    print(f"all cases <= {TOL}: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
