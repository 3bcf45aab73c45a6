"""The latent toolkit measured on the toy world: writes reports/latent_toolkit.md (+ .json).

    python scripts/latent_report.py --n 3000 --folds 5 --n-edit 64   # as in reports/ (9 min at load 14)
    python scripts/latent_report.py                       # the full run (toyfaces-sg2, n 10000)
    python scripts/latent_report.py --model toyfaces-sg1 --n 4000 --folds 5 --out /tmp/r

1. Paper 000 Table 1: AUC and balanced accuracy of L1 logistic regression (C = 0.1, stratified
   10-fold CV) predicting each binary attribute from z vs from w. Labels are the world's exact
   labels_of(z) (the truth behind each generated face).
2. Edits along the W directions found in (1): the classifier's probability of the target as
   lambda sweeps, monotonic fraction, mean |delta p| of the target vs the other attributes;
   conditional directions (InterFaceGAN) for correlated pairs: the conditioned attribute moves less.
3. Paper 004: linear vs nonlinear (MLP + gradient traversal) edits in Z and W, and the mode
   collapse when Z traversals start near z = 0 (image diversity after the edit, measured).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from latentjax import load_classifier, load_generator  # noqa: E402
from latentjax.directions import MLPConfig, condition, cv_scores, fit_mlp, logistic_direction, pca, traverse  # noqa: E402
from latentjax.directions.effects import edit_effect  # noqa: E402
from latentjax.figures import pca_extremes  # noqa: E402
from latentjax.media import save_png  # noqa: E402
from latentjax.report import finish, header, provenance, write  # noqa: E402
from latentjax.toyfaces import ATTRIBUTES, labels_of  # noqa: E402

# Entangled pairs of the world, conditioning the first on the second: beards only with short hair
# (the missing combination), age greys hair and darker skin comes with darker hair (hair colour),
# the mouth opens when smiling. The first two have the largest |cos| between W directions.
CONDITIONAL_PAIRS = (("long_hair", "beard"), ("grey_hair", "blond_hair"), ("smiling", "mouth_open"))


def table1(z, w, labels, folds: int, C: float) -> dict:
    sz, sw = cv_scores(z, labels, folds=folds, C=C), cv_scores(w, labels, folds=folds, C=C)
    return {
        a: {
            "auc_z": float(sz.auc[i]),
            "auc_w": float(sw.auc[i]),
            "bacc_z": float(sz.balanced_accuracy[i]),
            "bacc_w": float(sw.balanced_accuracy[i]),
        }
        for i, a in enumerate(ATTRIBUTES)
    }


def edits(G, clf, w, labels, n_edit: int, C: float) -> tuple[dict, dict, dict]:
    """Per attribute: L1 logistic direction in W, edited over +-3 std of the projection."""
    rng = np.random.default_rng(0)
    pick = rng.choice(len(w), n_edit, replace=False)
    ws = np.repeat(w[pick][:, None], G.config.num_ws, axis=1)
    dirs, rows = {}, {}
    for i, a in enumerate(ATTRIBUTES):
        d = logistic_direction(w, labels[:, i], C=C).direction
        dirs[a] = d
        scale = float(np.std(w @ d))
        eff = edit_effect(G, clf, ws, d, scale * np.linspace(-3, 3, 7), a)
        rows[a] = eff.summary() | {"lambda_per_std": scale}
    cond = {}
    for a, b in CONDITIONAL_PAIRS:
        scale = float(np.std(w @ dirs[a]))
        lam = scale * np.linspace(-3, 3, 7)
        plain = edit_effect(G, clf, ws, dirs[a], lam, a)
        cd = condition(dirs[a], dirs[b][None])
        conditioned = edit_effect(G, clf, ws, np.asarray(cd), lam, a)
        j = ATTRIBUTES.index(b)
        cond[f"{a} given {b}"] = {
            "cosine": float(dirs[a] @ dirs[b]),
            "target_change_plain": float(plain.mean_abs_change[ATTRIBUTES.index(a)]),
            "target_change_conditioned": float(conditioned.mean_abs_change[ATTRIBUTES.index(a)]),
            "conditioned_attr_change_plain": float(plain.mean_abs_change[j]),
            "conditioned_attr_change_conditioned": float(conditioned.mean_abs_change[j]),
        }
    return rows, cond, dirs


def fix_and_resample_consistency(G, clf, w, labels, C: float, attrs=("smiling", "long_hair", "blond_hair")) -> dict:
    """Paper 000 Fig. 6: keep the n entries of w with the largest |d| (L1 direction), resample the
    rest from other samples' w, and measure how often the classifier still sees w's attribute."""
    from latentjax.edit import fix_and_resample

    rng = np.random.default_rng(2)
    pool = w[rng.choice(len(w), 256, replace=False)]
    out = {}
    for a in attrs:
        i = ATTRIBUTES.index(a)
        d = logistic_direction(w, labels[:, i], C=C).direction
        rows = {"nonzero": int(np.count_nonzero(d))}
        src = np.where(labels[:, i])[0][:8]  # faces that have the attribute
        for n_fixed in (0, 4, 16, 64, w.shape[1]):
            keep = []
            for j, s in enumerate(src):
                new = np.asarray(fix_and_resample(w[s], d, n_fixed, jax.random.key(j), pool, num=32))
                ws = np.repeat(new[:, None], G.config.num_ws, 1)
                keep.append(clf.probabilities(np.asarray(G.synthesis(ws)))[:, i] > 0.5)
            rows[str(n_fixed)] = float(np.mean(keep))
        out[a] = rows
    return out


def _diversity(imgs: np.ndarray) -> float:
    """Mean pairwise RMS pixel distance of a set of images [N, H, W, 3]."""
    x = imgs.reshape(len(imgs), -1).astype(np.float64)
    d2 = np.maximum((x**2).sum(1)[:, None] + (x**2).sum(1)[None] - 2 * x @ x.T, 0)
    iu = np.triu_indices(len(x), 1)
    return float(np.sqrt(d2[iu] / x.shape[1]).mean())


def tunagan(G, clf, z, w, labels, attr: str, n: int, C: float) -> dict:
    """Paper 004 Sec. 4: push samples without `attr` to have it, linearly and along an MLP's gradient."""
    i = ATTRIBUTES.index(attr)
    start = np.where(~labels[:, i])[0][:n]
    p0 = clf.probabilities(np.asarray(G.synthesis(G.mapping(z[start]))))
    out, fits, dirs = {}, {}, {}
    for space, lat in (("z", z), ("w", w)):
        d = dirs[space] = logistic_direction(lat, labels[:, i], C=C).direction
        fit = fits[space] = fit_mlp(lat, labels, MLPConfig(steps=1500))
        x0 = lat[start]
        # linear: step along d until the (linear) score crosses by the same margin for everyone
        lin = x0 + 2.0 * float(np.std(lat @ d)) * d
        trav = np.asarray(traverse(fit.params, x0, i, target=0.9, steps=200).latents)[-1]
        for name, moved in (("linear", lin), ("nonlinear", trav)):
            ws = G.mapping(moved) if space == "z" else np.repeat(moved[:, None], G.config.num_ws, 1)
            p = clf.probabilities(np.asarray(G.synthesis(ws)))
            others = np.delete(np.abs(p - p0).mean(0), i)
            out[f"{space}/{name}"] = {
                "success": float(np.mean(p[:, i] > 0.5)),
                "others_mean_abs_change": float(others.mean()),
                "distance_moved": float(np.linalg.norm(moved - x0, axis=1).mean()),
            }
    # mode collapse near z = 0: start Z traversals from tiny z and from typical z; compare diversity
    rng = np.random.default_rng(1)
    z_typ = rng.standard_normal((n, z.shape[1])).astype(np.float32)
    coll = {}
    for name, z0 in (("typical", z_typ), ("near_zero", 0.05 * z_typ)):
        moved = np.asarray(traverse(fits["z"].params, z0, i, target=0.9, steps=200).latents)[-1]
        lin = z0 + 3.0 * dirs["z"]
        coll[name] = {
            "diversity_start": _diversity(np.asarray(G.synthesis(G.mapping(z0)))),
            "diversity_after_nonlinear": _diversity(np.asarray(G.synthesis(G.mapping(moved)))),
            "diversity_after_linear": _diversity(np.asarray(G.synthesis(G.mapping(lin)))),
            "mean_norm_start": float(np.linalg.norm(z0, axis=1).mean()),
        }
    out["mode_collapse"] = coll
    return out


def markdown(rep: dict) -> str:
    L = header(f"Latent toolkit on {rep['model']}", rep["provenance"])
    L += [f"## Paper 000 Table 1: L1 logistic regression (C = {rep['C']}), {rep['folds']}-fold CV, n = {rep['n']}"]
    L += ["", "| attribute | AUC z | AUC w | bal. acc. z | bal. acc. w |", "|---|---|---|---|---|"]
    for a, r in rep["table1"].items():
        L.append(f"| {a} | {r['auc_z']:.3f} | {r['auc_w']:.3f} | {r['bacc_z']:.3f} | {r['bacc_w']:.3f} |")
    t = rep["table1"].values()
    L.append(
        f"| **mean** | {np.mean([r['auc_z'] for r in t]):.3f} | {np.mean([r['auc_w'] for r in t]):.3f} | "
        f"{np.mean([r['bacc_z'] for r in t]):.3f} | {np.mean([r['bacc_w'] for r in t]):.3f} |"
    )
    L += ["", f"## Edits along W directions (lambda = -3..3 std, {rep['n_edit']} latents, classifier probabilities)"]
    L += ["", "| target | mean abs dp target | others mean | others max (which) | monotonic |", "|---|---|---|---|---|"]
    for a, r in rep["edits"].items():
        L.append(
            f"| {a} | {r['target_abs_change']:.3f} | {r['others_mean_abs_change']:.3f} | "
            f"{r['others_max_abs_change']:.3f} ({r['others_max_attribute']}) | {r['monotonic_fraction']:.2f} |"
        )
    L += ["", "## Conditional directions (InterFaceGAN): edit A with B projected out", ""]
    L += [
        "| A given B | cos(dA, dB) | dp A plain | dp A cond. | dp B plain | dp B cond. |",
        "|---|---|---|---|---|---|",
    ]
    for k, r in rep["conditional"].items():
        L.append(
            f"| {k} | {r['cosine']:.2f} | {r['target_change_plain']:.3f} | {r['target_change_conditioned']:.3f} | "
            f"{r['conditioned_attr_change_plain']:.3f} | {r['conditioned_attr_change_conditioned']:.3f} |"
        )
    L += ["", "## Fixing the W entries that encode an attribute, resampling the rest (paper 000 Fig. 6)", ""]
    L += ["Faces with the attribute; n entries with the largest |d| kept, the others taken from other"]
    L += ["samples' w (32 each): fraction of the results that still have the attribute. n = w_dim keeps"]
    L += ["w itself: that column is the classifier's agreement with the exact labels on the 8 source faces.", ""]
    fr = rep["fix_and_resample"]
    ns = [k for k in next(iter(fr.values())) if k != "nonzero"]
    L += ["| attribute | non-zero in d | " + " | ".join(f"n = {k}" for k in ns) + " |", "|---" * (len(ns) + 2) + "|"]
    for a, r in fr.items():
        L.append(f"| {a} | {r['nonzero']} | " + " | ".join(f"{r[k]:.2f}" for k in ns) + " |")
    ev = np.cumsum(rep["pca_explained_variance_ratio"])
    L += ["", "## PCA of W (paper 000 Figs. 4-5; images: `pca_extremes.png`, PCs 1-5 at -3..3 std)", ""]
    L += ["cumulative explained variance of PCs 1-10: " + ", ".join(f"{v:.3f}" for v in ev)]
    tg = rep["tunagan"]
    L += ["", f"## Paper 004: linear vs nonlinear edits towards `{rep['tunagan_attribute']}`", ""]
    L += ["| space / method | success | others mean abs dp | distance moved |", "|---|---|---|---|"]
    for k, r in tg.items():
        if k != "mode_collapse":
            L.append(f"| {k} | {r['success']:.2f} | {r['others_mean_abs_change']:.3f} | {r['distance_moved']:.2f} |")
    L += ["", "Mode collapse (Z traversals; diversity = mean pairwise RMS pixel distance):", ""]
    L += ["| start | mean norm z | diversity start | after nonlinear | after linear |", "|---|---|---|---|---|"]
    for k, r in tg["mode_collapse"].items():
        L.append(
            f"| {k} | {r['mean_norm_start']:.2f} | {r['diversity_start']:.3f} | "
            f"{r['diversity_after_nonlinear']:.3f} | {r['diversity_after_linear']:.3f} |"
        )
    return "\n".join(L) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="toyfaces-sg2")
    ap.add_argument("--n", type=int, default=10000, help="latents for Table 1 and the direction fits")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--C", type=float, default=0.1)
    ap.add_argument("--n-edit", type=int, default=128)
    ap.add_argument("--tunagan-attribute", default="smiling")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "reports"))
    args = ap.parse_args(argv)
    t0 = time.time()
    prov = provenance("latent_report.py", argv, models=[args.model], classifier="toyfaces")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    G, clf = load_generator(args.model), load_classifier("toyfaces")
    z = np.asarray(jax.random.normal(jax.random.key(args.seed), (args.n, G.config.z_dim)), np.float32)
    w = np.concatenate([np.asarray(G.mapping(z[i : i + 4096]))[:, 0] for i in range(0, args.n, 4096)])
    lab = labels_of(jnp.asarray(z))
    labels = np.stack([np.asarray(lab[a]) for a in ATTRIBUTES], axis=1)
    rep = {"model": args.model, "n": args.n, "folds": args.folds, "C": args.C, "n_edit": args.n_edit}
    rep["table1"] = table1(z, w, labels, args.folds, args.C)
    print("table 1 done", f"{time.time() - t0:.0f}s", flush=True)
    rep["edits"], rep["conditional"], _ = edits(G, clf, w, labels, args.n_edit, args.C)
    print("edits done", f"{time.time() - t0:.0f}s", flush=True)
    rep["fix_and_resample"] = fix_and_resample_consistency(G, clf, w, labels, args.C)
    p = pca(w, 10)
    rep["pca_explained_variance_ratio"] = [float(v) for v in np.asarray(p.explained_variance_ratio)]
    save_png(Path(args.out) / "pca_extremes.png", pca_extremes(G, pca(w, 5)))
    rep["tunagan_attribute"] = args.tunagan_attribute
    rep["tunagan"] = tunagan(G, clf, z, w, labels, args.tunagan_attribute, args.n_edit, args.C)
    rep["seconds"] = time.time() - t0
    rep["provenance"] = finish(prov)
    write(Path(args.out) / "latent_toolkit.md", markdown(rep), rep)
    print(markdown(rep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
