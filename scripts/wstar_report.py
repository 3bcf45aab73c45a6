"""Paper 002 (Semantic Unfolding of StyleGAN Latent Space, W*) on the toy world: reports/wstar.md (+ .json).

    # the committed reports/wstar.md (a small run: load 14 on the 2 shared cores, 8.1 min)
    python scripts/wstar_report.py --n 3000 --steps 1000 --dev none --n-edit 64 --dci-n 1000
    # the full run (defaults + the lambda_lm = 0 deviations; ~19 min on 2 lightly loaded cores)
    python scripts/wstar_report.py --dev lambda_lm=0 --dev lambda_lm=0,lambda_ap=0
    # flattened W+ (1280-d), narrower couplings; a larger-batch / larger-lr deviation
    python scripts/wstar_report.py --space w+ --hidden 128 --dev batch=64,lr=1e-3,steps=3000 --out /tmp/wp.md

1. Sample N latents of toyfaces-sg2 (psi = 1) with the toyfaces classifier's probabilities;
   labels = p > 0.5. A seeded split: `--train-fraction` of the rows train the fixed linear
   classifiers C_i, the flow T and the InterFaceGAN normals; the rest (held out) is only evaluated.
2. C_i: one L2 logistic regression per attribute (sklearn lbfgs, C = `--clf-C`) on the raw input
   codes (W, or W+ flattened), giving clf_w [A, D], clf_b [A] (paper: "a single layer MLP ...
   pretrained in W+", then fixed).
3. T: RealNVP (`latentjax.flow`) trained with the paper's defaults (Adam 1e-4, batch 8,
   lambda_ap 0.1; lambda_lm 0.1 and the L_ap edit range 3 are the library's choices, the paper
   gives none) for `--steps`; plus clearly labelled deviation runs (`--dev`: FlowTrainConfig
   overrides, e.g. lambda_lm=0, or batch / lr). The paper's defaults are the primary W* row.
4. Paper Table 1 on held-out codes: linear SVM accuracy (80/20 split; min / max / mean over the 12
   attributes) and DCI with Lasso(alpha = 0.05) (D, C and I = held-out classification error) in
   the input space vs W*.
5. Editing: per attribute, InterFaceGAN SVM normals (top / bottom 2 % by probability) fitted on the
   training codes in the input space (`svm_direction`) and in W* (`fit_wstar_normals`); held-out
   codes are moved by +-strength along the unit normal (in W*: w' = T^-1(T(w) +- s n)), rendered
   and classified. Reported: the target's mean signed delta p (in the edit direction), the mean
   |delta p| of the 11 other attributes, and their ratio; once at the same numeric strength in both
   spaces, once at a strength of k robust standard deviations (IQR / 1.349) of the training codes'
   projection on the normal (each space's own scale).

Space: sampled W+ codes of this generator are w broadcast to num_ws identical rows, so the primary
setting is W (D = w_dim = 128); `--space w+` runs the same pipeline on flattened W+ (D = 1280).

Timing of the full run (the second command above, on the generator before its 2026-11-23 retrain, load 1-6):
1116 s wall (~19 min): sampling 20000 latents 51 s, C_i 12 s, three 10000-step flow runs 203 / 245 /
379 s (26-49 steps/s at batch 8, depending on the load), Table 1 6 s, edits 208 s. The per-stage
seconds are also in reports/wstar.md and the json. `--render reports/wstar.json` rewrites the
markdown from a saved json without recomputing anything.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from latentjax.report import finish, header, provenance, write  # noqa: E402

# Paper 002 Table 1 (CelebA-HQ, 40 attributes, 18 x 512 W+), for reference in the report.
PAPER_TABLE1 = {
    "W+ (paper)": {"min_acc": 0.635, "max_acc": 0.979, "mean_acc": 0.834, "D": 0.67, "C": 0.53, "I": 0.33},
    "W* (paper)": {"min_acc": 0.796, "max_acc": 0.991, "mean_acc": 0.916, "D": 0.73, "C": 0.58, "I": 0.30},
}


def parse_overrides(spec: str) -> dict:
    """'batch_size=64,learning_rate=1e-3' -> {name: value} typed as FlowTrainConfig's fields."""
    from latentjax.flow import FlowTrainConfig

    fields = {f.name: f.type for f in dataclasses.fields(FlowTrainConfig)}
    alias = {"batch": "batch_size", "lr": "learning_rate"}
    out = {}
    for item in spec.split(","):
        key, _, value = item.partition("=")
        key = alias.get(key.strip(), key.strip())
        if key not in fields or not value:
            raise SystemExit(f"--dev: bad override {item!r} (fields: {', '.join(fields)})")
        kind = fields[key] if isinstance(fields[key], str) else fields[key].__name__
        out[key] = {"int": int, "float": float, "bool": lambda v: v.lower() in ("1", "true", "yes")}[kind](value)
    return out


# ---- helpers ---------------------------------------------------------------------------------------


def to_ws(x: np.ndarray, space: str, num_ws: int, w_dim: int) -> np.ndarray:
    """Flat codes [N, D] -> generator input [N, num_ws, w_dim] (W: broadcast; W+: reshape)."""
    if space == "w":
        return np.repeat(np.asarray(x, np.float32)[:, None], num_ws, axis=1)
    return np.asarray(x, np.float32).reshape(len(x), num_ws, w_dim)


def classify_codes(G, clf, x: np.ndarray, space: str, batch: int) -> np.ndarray:
    """Flat codes [N, D] -> classifier probabilities [N, A] of their images (stored noise; padded batches)."""
    out = []
    for i in range(0, len(x), batch):
        chunk = x[i : i + batch]
        pad = batch - len(chunk)
        if pad:  # one compiled shape for every call
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
        imgs = np.asarray(G.synthesis(to_ws(chunk, space, G.config.num_ws, G.config.w_dim)))
        out.append(clf.probabilities(imgs, batch=batch)[: batch - pad])
    return np.concatenate(out).astype(np.float32)


def fit_classifiers(x: np.ndarray, y: np.ndarray, C: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One L2 logistic regression per attribute on raw codes: clf_w [A, D], clf_b [A] (float32)."""
    from latentjax.directions import logistic_direction

    fits = [logistic_direction(x, y[:, a], C=C, penalty="l2", solver="lbfgs", seed=seed) for a in range(y.shape[1])]
    return np.stack([f.coef for f in fits]).astype(np.float32), np.array([f.intercept for f in fits], np.float32)


def linear_accuracy(x: np.ndarray, y: np.ndarray, clf_w: np.ndarray, clf_b: np.ndarray) -> np.ndarray:
    """[A] accuracy of the fixed classifiers C_i on codes x [N, D] with labels y [N, A]."""
    pred = x.astype(np.float64) @ clf_w.T.astype(np.float64) + clf_b > 0
    return (pred == y).mean(axis=0)


def table1(codes: np.ndarray, labels: np.ndarray, dci_n: int, seed: int) -> dict:
    """Paper 002 Table 1 on held-out codes: SVM accuracy (80/20) and DCI (Lasso alpha 0.05) on the first dci_n."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from latentjax.directions.scores import svm_accuracy_split
    from latentjax.metrics.dci import dci

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        acc = svm_accuracy_split(codes, labels, test_fraction=0.2, seed=seed)
    unconverged = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    n = min(dci_n, len(codes))
    r = dci(codes[:n], labels[:n], method="lasso", alpha=0.05, seed=seed)
    return {
        "min_acc": acc.min,
        "max_acc": acc.max,
        "mean_acc": acc.mean,
        "D": r.disentanglement,
        "C": r.completeness,
        "I": r.prediction_error,
        "svm_accuracy": [float(a) for a in acc.accuracy],
        "dci_informativeness_per_attribute": [float(v) for v in r.informativeness_per_factor],
        "dci_n": n,
        "svm_unconverged": int(unconverged),
    }


def edit_table(G, clf, x, p0, normals, scales, attributes, space, edit_fn, batch) -> dict:
    """Per attribute j: codes x [M, D] moved by +-scales[j] along normals[j] with edit_fn(x, n, s) -> x'.

    target: mean over both signs and the M codes of sign * (p_j' - p_j); others: mean |p_i' - p_i|
    over i != j; ratio = others / |target|."""
    rows = {}
    for j, a in enumerate(attributes):
        tgt, oth = [], []
        for sign in (1.0, -1.0):
            x_new = np.asarray(edit_fn(x, normals[j], sign * float(scales[j])), np.float32)
            dp = classify_codes(G, clf, x_new, space, batch) - p0
            tgt.append(sign * dp[:, j].mean())
            oth.append(np.delete(np.abs(dp).mean(axis=0), j).mean())
        t, o = float(np.mean(tgt)), float(np.mean(oth))
        rows[a] = {"strength": float(scales[j]), "target": t, "others": o, "ratio": o / max(abs(t), 1e-12)}
    return rows


def summarise_edits(rows: dict) -> dict:
    t = np.array([r["target"] for r in rows.values()])
    o = np.array([r["others"] for r in rows.values()])
    return {
        "target_mean": float(t.mean()),
        "others_mean": float(o.mean()),
        "ratio_of_means": float(o.mean() / max(abs(t.mean()), 1e-12)),
        "ratio_median": float(np.median([r["ratio"] for r in rows.values()])),
    }


def history_summary(hist: dict, frac: float = 0.1) -> dict:
    """Mean of every loss part over the first and the last `frac` of the steps."""
    out = {}
    for k, v in hist.items():
        v = np.asarray(v, np.float64)
        if len(v) == 0:
            continue
        m = max(1, int(round(frac * len(v))))
        out[k] = {"first": float(v[:m].mean()), "last": float(v[-m:].mean())}
    return out


# ---- report ----------------------------------------------------------------------------------------


def _f(v, nd=3) -> str:
    return f"{v:.{nd}f}"


def markdown(rep: dict) -> str:
    spaces = list(rep["table1"])
    inp = spaces[0]
    L = [
        *header("Paper 002 (W*, Semantic Unfolding of StyleGAN Latent Space) on the toy world", rep["provenance"]),
        f"Wall time by stage: sampling {rep['timings']['sample']:.0f} s, flow training "
        + ", ".join(f"{k} {v:.0f} s" for k, v in rep["timings"]["train"].items())
        + f", Table 1 {rep['timings']['table1']:.0f} s, edits {rep['timings']['edits']:.0f} s."
        + (
            f" Text re-rendered from the saved json (same numbers) by `{rep['rendered_by']}`."
            if rep.get("rendered_by")
            else ""
        ),
        "",
        "## Set-up",
        "",
        f"- Generator `{rep['model']}` (psi = 1), classifier `toyfaces` ({len(rep['attributes'])} attributes); "
        f"N = {rep['n']} sampled latents, labels = classifier probability > 0.5.",
        f"- Split (seed {rep['seed']}): {rep['n_train']} training rows (classifiers C_i, flow T, edit normals), "
        f"{rep['n_heldout']} held-out rows (Table 1, edits).",
        f"- Space: **{rep['space_name']}**, D = {rep['dim']}. "
        + (
            "Sampled W+ codes of this generator are w broadcast to "
            f"{rep['num_ws']} identical rows, so W carries all of their information; W+ (`--space w+`, D = "
            f"{rep['num_ws'] * rep['w_dim']}) would only repeat it."
            if rep["space"] == "w"
            else "Flattened W+ codes; the sampled ones are w repeated on every row."
        ),
        f"- Fixed classifiers C_i: one L2 logistic regression per attribute (sklearn lbfgs, C = {rep['clf_C']}) "
        "fitted on the raw training codes, then frozen (paper: single-layer MLP pre-trained in W+).",
        f"- T: RealNVP, {rep['flow_config']['num_couplings']} affine couplings ({rep['flow_config']['mask']} mask), "
        f"s and t 3-layer MLPs of width {rep['flow_config']['hidden']} (LeakyReLU {rep['flow_config']['leaky_slope']}, "
        "tanh on s), no batch norm, identity at init. Coupling count and width are not given in the paper.",
        "- Loss L_a + lambda_lm L_lm + lambda_ap L_ap (lambda_lm = 0.1 and the L_ap edit range alpha ~ U(-3, 3) "
        "are not given in the paper; lambda_ap = 0.1 is).",
        "",
        "| run | batch | lr | lambda_lm | lambda_ap | steps | samples seen (epochs) | train s | steps/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rep["runs"].items():
        t = r["train_config"]
        seen = t["steps"] * t["batch_size"]
        L.append(
            f"| {name} | {t['batch_size']} | {t['learning_rate']:g} | {t['lambda_lm']:g} | {t['lambda_ap']:g} | "
            f"{t['steps']} | {seen} "
            f"({seen / rep['n_train']:.1f}) | {r['seconds']:.0f} | {t['steps'] / max(r['seconds'], 1e-9):.1f} |"
        )
    L += [
        "",
        "Loss parts (mean over the first / last 10 % of the steps; accuracy = C_i's accuracy on the batch in W*; "
        "every part is logged, also when its weight is 0):",
        "",
        "| run | total | L_a | L_lm | L_ap | C_i accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in rep["runs"].items():
        h = r["history"]
        cells = [f"{_f(h[k]['first'])} -> {_f(h[k]['last'])}" for k in ("total", "attribute", "margin")]
        cells += [f"{_f(h[k]['first'])} -> {_f(h[k]['last'])}" for k in ("preservation", "accuracy")]
        L.append(f"| {name} | " + " | ".join(cells) + " |")
    L += [
        "",
        "Fixed classifiers C_i, mean accuracy over attributes on held-out codes, and T's round trip:",
        "",
        "| space | C_i held-out accuracy (mean) | max abs T^-1(T(w)) - w | mean norm of codes |",
        "|---|---|---|---|",
    ]
    for s in spaces:
        c = rep["codes"][s]
        L.append(f"| {s} | {_f(c['clf_accuracy_mean'])} | {c['roundtrip_max_abs']:.2e} | {_f(c['mean_norm'], 2)} |")

    L += [
        "",
        "## Table 1: linear separation and disentanglement (held-out codes)",
        "",
        f"SVM: LinearSVC (C = 1) per attribute, stratified 80/20 split of the {rep['n_heldout']} held-out codes; "
        "min / max / mean held-out accuracy over the 12 attributes. DCI: one Lasso(alpha = 0.05) per attribute "
        f"on standardised codes, first {rep['table1'][inp]['dci_n']} held-out codes (paper: 2000), 80/20 split; "
        "I = held-out classification error (lower is better), as the paper reports it. 'unconv.': attributes whose "
        "LinearSVC hit its 10000-iteration cap (raw, unscaled codes, as the paper). Paper rows: CelebA-HQ, "
        "40 attributes, for reference only.",
        "",
        "| space | Min acc ↑ | Max acc ↑ | Mean acc ↑ | D ↑ | C ↑ | I ↓ | unconv. |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s, r in {**rep["table1"], **PAPER_TABLE1}.items():
        L.append(
            f"| {s} | {_f(r['min_acc'])} | {_f(r['max_acc'])} | {_f(r['mean_acc'])} | "
            f"{_f(r['D'], 2)} | {_f(r['C'], 2)} | {_f(r['I'], 2)} | {r.get('svm_unconverged', '')} |"
        )
    L += ["", "Per-attribute SVM accuracy:", "", "| attribute | " + " | ".join(spaces) + " |"]
    L.append("|---" * (len(spaces) + 1) + "|")
    for i, a in enumerate(rep["attributes"]):
        L.append(f"| {a} | " + " | ".join(_f(rep["table1"][s]["svm_accuracy"][i]) for s in spaces) + " |")

    ed = rep["edits"]
    L += [
        "",
        "## Editing: does a W* edit change the other attributes less?",
        "",
        f"{rep['n_edit']} held-out codes, InterFaceGAN normals (LinearSVC between the top and bottom 2 % of the "
        "training codes by classifier probability; unit length) fitted separately in each space. Every code is "
        "moved by +s and by -s along the normal (W*: w' = T^-1(T(w) +- s n)), rendered (stored noise) and "
        "classified. target = mean signed delta p of the edited attribute in the edit direction (higher = the edit "
        "works); others = mean |delta p| of the 11 other attributes (lower = more disentangled); "
        "ratio = others / target.",
    ]
    for mode, title in (
        ("fixed", f"same numeric strength s = {rep['strength']} in every space"),
        (
            "std",
            f"s = {rep['strength_std']} robust standard deviations (IQR / 1.349) of the training codes' "
            "projection on the normal",
        ),
    ):
        L += ["", f"### {title}", "", "Mean over the 12 attributes:", ""]
        L += ["| space | target ↑ | others ↓ | others / target ↓ | median per-attribute ratio ↓ |"]
        L += ["|---|---|---|---|---|"]
        for s in spaces:
            m = ed[mode][s]["summary"]
            L.append(
                f"| {s} | {_f(m['target_mean'])} | {_f(m['others_mean'])} | {_f(m['ratio_of_means'])} | "
                f"{_f(m['ratio_median'])} |"
            )
        L += ["", "| attribute | " + " | ".join(f"{s} s / target / others / ratio" for s in spaces) + " |"]
        L.append("|---" * (len(spaces) + 1) + "|")
        for a in rep["attributes"]:
            cells = []
            for s in spaces:
                r = ed[mode][s]["rows"][a]
                cells.append(f"{r['strength']:.2f} / {_f(r['target'])} / {_f(r['others'])} / {_f(r['ratio'], 2)}")
            L.append(f"| {a} | " + " | ".join(cells) + " |")

    L += ["", "## Verdict (computed from the numbers above)", ""]
    L += [f"- {v}" for v in rep["verdict"]]
    L += ["", "## What this shows / does not", ""]
    L += [summary(rep), "", rep["discussion"]]
    return "\n".join(L) + "\n"


def verdicts(rep: dict) -> list[str]:
    spaces = list(rep["table1"])
    inp, out = spaces[0], spaces[1:]
    t = rep["table1"]
    lines = []
    for s in out:
        d = {k: t[s][k] - t[inp][k] for k in ("min_acc", "max_acc", "mean_acc", "D", "C", "I")}
        better = [k for k in ("min_acc", "max_acc", "mean_acc", "D", "C") if d[k] > 0] + (["I"] if d["I"] < 0 else [])
        lines.append(
            f"Table 1, {s} vs {inp}: "
            + ", ".join(f"{k} {t[inp][k]:.3f} -> {t[s][k]:.3f} ({v:+.3f})" for k, v in d.items())
            + f". Better in {len(better)}/6 columns ({', '.join(better) or 'none'})."
        )
    for s in out:
        r, c = rep["runs"][s], rep["codes"][s]
        growth = c["mean_norm"] / rep["codes"][inp]["mean_norm"]
        lines.append(
            f"{s}: mean code norm x{growth:.1f} of {inp}'s; L_lm {r['history']['margin']['first']:.3g} -> "
            f"{r['history']['margin']['last']:.3g}, L_a {r['history']['attribute']['first']:.3g} -> "
            f"{r['history']['attribute']['last']:.3g}"
            + (
                " (L_lm, unbounded below, dominates: T inflates W* instead of fitting the fixed classifiers)."
                if r["history"]["attribute"]["last"] > r["history"]["attribute"]["first"]
                else "."
            )
        )
    for mode in ("fixed", "std"):
        e = rep["edits"][mode]
        base = e[inp]["summary"]
        for s in out:
            m = e[s]["summary"]
            rows_in, rows_out = e[inp]["rows"], e[s]["rows"]
            fewer = sum(rows_out[a]["ratio"] < rows_in[a]["ratio"] for a in rows_in)
            lines.append(
                f"Edits ({mode} strength), {s} vs {inp}: target {base['target_mean']:.3f} -> {m['target_mean']:.3f}, "
                f"others {base['others_mean']:.3f} -> {m['others_mean']:.3f}, others/target "
                f"{base['ratio_of_means']:.3f} -> {m['ratio_of_means']:.3f}; lower ratio for {fewer}/"
                f"{len(rows_in)} attributes."
            )
    return lines


def summary(rep: dict) -> str:
    """The 'what this shows' sentences, computed from the numbers (so a rerun cannot leave them stale)."""
    spaces = list(rep["table1"])
    inp, outs = spaces[0], spaces[1:]
    t, primary = rep["table1"], outs[0] if outs else None
    se = (t[inp]["mean_acc"] * (1 - t[inp]["mean_acc"]) / rep["n_test"]) ** 0.5
    S = [
        f"Headroom: linear separation in {inp} is already high here (mean SVM accuracy {t[inp]['mean_acc']:.3f}, "
        f"min {t[inp]['min_acc']:.3f}; paper's W+: 0.834, min 0.635), so the toy world leaves little to unfold; "
        f"one binomial standard error of an accuracy is about {se:.3f}."
    ]
    if primary is not None:
        growth = rep["codes"][primary]["mean_norm"] / rep["codes"][inp]["mean_norm"]
        h = rep["runs"][primary]["history"]["attribute"]
        if growth > 10 or h["last"] > h["first"]:
            S.append(
                f"With the paper's defaults (lambda_lm = {rep['runs'][primary]['train_config']['lambda_lm']:g}) T did "
                f"not learn what the paper intends: the large-margin term L_lm (Eq. 2, unbounded below) took over, "
                f"W* codes grew x{growth:.0f} in norm and the fixed classifiers' loss L_a rose "
                f"({h['first']:.3g} -> {h['last']:.3g}) instead of falling."
            )
    for s in outs:
        d = {k: t[s][k] - t[inp][k] for k in ("min_acc", "max_acc", "mean_acc", "D", "C")}
        d["I"] = t[inp]["I"] - t[s]["I"]  # positive = better
        better = [k for k, v in d.items() if v > 0]
        fixed, std = rep["edits"]["fixed"], rep["edits"]["std"]
        r_in = (fixed[inp]["summary"]["ratio_of_means"], std[inp]["summary"]["ratio_of_means"])
        r_s = (fixed[s]["summary"]["ratio_of_means"], std[s]["summary"]["ratio_of_means"])
        n_att = len(rep["attributes"])
        lower = sum(std[s]["rows"][a]["ratio"] < std[inp]["rows"][a]["ratio"] for a in rep["attributes"])
        table_ok = len(better) == 6
        edit_ok = r_s[0] < 0.9 * r_in[0] and r_s[1] < 0.9 * r_in[1] and lower > n_att / 2
        S.append(
            f"{s}: Table 1 better than {inp} in {len(better)}/6 columns "
            f"(mean accuracy {d['mean_acc']:+.3f}, min {d['min_acc']:+.3f}, D {d['D']:+.3f}, C {d['C']:+.3f}, "
            f"I {-d['I']:+.3f}) -> the paper's Table 1 claim (all six better) "
            + ("reproduces" if table_ok else "does not reproduce")
            + f"; editing others/target {r_in[0]:.3f} -> {r_s[0]:.3f} (same strength), {r_in[1]:.3f} -> {r_s[1]:.3f} "
            f"(per-space std strength), lower for {lower}/{n_att} attributes -> the editing claim (W* edits change "
            "other attributes less, at a comparable target change; >= 10 % lower ratio in both comparisons and for "
            "most attributes) " + ("reproduces." if edit_ok else "does not reproduce.")
        )
    return " ".join(S)


DISCUSSION = (
    "What this shows: whether, on a world whose attributes are known and whose classifier is the judge, the "
    "paper's recipe (fixed linear classifiers pre-trained in the input space, a RealNVP T trained with "
    "L_a + lambda_lm L_lm + lambda_ap L_ap) makes the attributes more linearly separable and Lasso-DCI-disentangled "
    "on held-out codes, and whether InterFaceGAN edits made in W* move the other attributes less per unit of "
    "target change than the same edits made in the input space. The verdict lines above are computed from the "
    "numbers, not written by hand. What it does not show: anything about CelebA-HQ / FFHQ, 18 x 512 W+ codes of "
    "encoded real images or the paper's 40 attributes (the toy world has 12 attributes, a 128-d W of low "
    "effective rank, and sampled rather than encoded codes); the paper's unstated hyper-parameters (lambda_lm, "
    "the L_ap edit range, coupling count and width, training length) are our choices, so a failure to reproduce "
    "may be a tuning failure rather than a refutation; the judge of the edits is the same kind of CNN classifier "
    "whose labels trained C_i and T, so W* can be rewarded for moving what that classifier sees rather than the "
    "faces' true factors; one seed, one training run per configuration, no error bars. The 'same numeric strength' "
    "comparison is only fair together with the target column: W* may be scaled differently from the input "
    "space (L_lm pushes codes away from the hyperplanes without bound), which is why the edits are also "
    "reported at a per-space standard-deviation strength and as the others / target ratio."
)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="toyfaces-sg2")
    ap.add_argument("--n", type=int, default=20000, help="sampled latents (train + held out)")
    ap.add_argument("--train-fraction", type=float, default=0.6)
    ap.add_argument("--steps", type=int, default=10000, help="flow steps with the paper's defaults (batch 8, lr 1e-4)")
    ap.add_argument(
        "--dev",
        action="append",
        default=None,
        help="a deviation run, as comma-separated FlowTrainConfig overrides of the paper defaults, e.g. "
        "'lambda_lm=0' or 'batch_size=64,learning_rate=1e-3,steps=3000' (repeatable; default: lambda_lm=0; "
        "'none': no deviation run)",
    )
    ap.add_argument("--space", choices=("w", "w+"), default="w")
    ap.add_argument("--hidden", type=int, default=512, help="width of the coupling MLPs")
    ap.add_argument("--couplings", type=int, default=8)
    ap.add_argument("--clf-C", type=float, default=1.0, help="inverse L2 strength of the fixed classifiers C_i")
    ap.add_argument("--dci-n", type=int, default=2000)
    ap.add_argument("--n-edit", type=int, default=256)
    ap.add_argument("--strength", type=float, default=2.0, help="edit strength along a unit normal")
    ap.add_argument("--strength-std", type=float, default=1.0, help="edit strength in std of the projection")
    ap.add_argument("--batch", type=int, default=256, help="synthesis / classification batch")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "reports" / "wstar.md"))
    ap.add_argument("--render", metavar="JSON", help="only rewrite --out's markdown from a saved report json")
    args = ap.parse_args(argv)
    if args.render:  # text changes without recomputing: the numbers (and their command line) come from the json
        rep = json.loads(Path(args.render).read_text())
        rep["verdict"], rep["discussion"] = verdicts(rep), DISCUSSION
        rep["rendered_by"] = " ".join(["python3 scripts/wstar_report.py", *(sys.argv[1:] if argv is None else argv)])
        write(args.out, markdown(rep), rep)  # the json next to --out gets the new verdicts
        return 0

    import jax

    from latentjax import load_classifier, load_generator
    from latentjax.directions import svm_direction
    from latentjax.flow import (
        FlowConfig,
        FlowTrainConfig,
        edit_wstar,
        fit_wstar_normals,
        from_wstar,
        to_wstar,
        train_flow,
    )
    from latentjax.metrics.sample import sample_labelled

    prov = provenance("wstar_report.py", argv, models=[args.model], classifier="toyfaces")
    t0 = time.time()
    out_md = Path(args.out)
    out_md.parent.mkdir(parents=True, exist_ok=True)
    timings: dict = {"train": {}}

    def log(msg):
        print(f"[{time.time() - t0:6.0f}s] {msg}", flush=True)

    G, clf = load_generator(args.model), load_classifier("toyfaces")
    num_ws, w_dim = G.config.num_ws, G.config.w_dim
    data = sample_labelled(G, args.n, seed=args.seed, classifier=clf, batch=args.batch, progress=args.progress)
    attributes = list(data.attributes)
    x_all = (
        data.w.astype(np.float32)
        if args.space == "w"
        else np.repeat(data.w[:, None], num_ws, 1).reshape(args.n, num_ws * w_dim)
    )
    y_all, p_all = data.labels, data.probs
    timings["sample"] = time.time() - t0
    log(f"sampled {args.n}; label rates {np.round(y_all.mean(0), 2).tolist()}")

    perm = np.random.default_rng(args.seed).permutation(args.n)
    n_train = int(round(args.train_fraction * args.n))
    tr, ho = perm[:n_train], perm[n_train:]
    x_tr, y_tr, p_tr = x_all[tr], y_all[tr], p_all[tr]
    x_ho, y_ho = x_all[ho], y_all[ho]
    for name, y in (("training", y_tr), ("held-out", y_ho)):
        single = [attributes[a] for a in range(y.shape[1]) if y[:, a].all() or not y[:, a].any()]
        if single:
            raise SystemExit(f"attributes {single} have a single class in the {name} split: raise --n")

    t = time.time()
    clf_w, clf_b = fit_classifiers(x_tr, y_tr, args.clf_C, args.seed)
    log(
        f"C_i fitted ({time.time() - t:.0f}s); held-out accuracy {linear_accuracy(x_ho, y_ho, clf_w, clf_b).mean():.3f}"
    )

    dim = x_all.shape[1]
    fcfg = FlowConfig(dim=dim, num_couplings=args.couplings, hidden=args.hidden)
    runs_cfg = {"W* (paper defaults)": FlowTrainConfig(steps=args.steps, seed=args.seed, checkpoint_every=10**9)}
    for spec in ["lambda_lm=0"] if args.dev is None else args.dev:
        if spec == "none":
            continue
        over = parse_overrides(spec)
        tcfg = dataclasses.replace(runs_cfg["W* (paper defaults)"], **over)
        label = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in over.items())
        runs_cfg[f"W* (deviation: {label})"] = tcfg
    runs, params = {}, {}
    for name, tcfg in runs_cfg.items():
        t = time.time()
        params[name], hist = train_flow(x_tr, y_tr, clf_w, clf_b, fcfg, tcfg, progress=args.progress)
        secs = time.time() - t
        timings["train"][name] = secs
        runs[name] = {"train_config": tcfg.to_dict(), "seconds": secs, "history": history_summary(hist)}
        log(f"trained {name}: {tcfg.steps} steps in {secs:.0f}s, L_a {runs[name]['history']['attribute']}")

    in_name = "W" if args.space == "w" else "W+"

    def identity_edit(x, n, s):
        return x + s * n[None, :]

    spaces = {in_name: None, **{name: params[name] for name in runs}}
    codes_ho, codes_tr, codes_info = {}, {}, {}
    for s, prm in spaces.items():
        if prm is None:
            codes_ho[s], codes_tr[s] = x_ho, x_tr
            rt = 0.0
        else:
            codes_ho[s] = np.asarray(to_wstar(prm, x_ho, cfg=fcfg), np.float32)
            codes_tr[s] = np.asarray(to_wstar(prm, x_tr, cfg=fcfg), np.float32)
            rt = float(np.abs(np.asarray(from_wstar(prm, codes_ho[s], cfg=fcfg)) - x_ho).max())
        if not np.all(np.isfinite(codes_ho[s])):
            raise SystemExit(f"{s}: non-finite codes (the flow diverged)")
        codes_info[s] = {
            "clf_accuracy_mean": float(linear_accuracy(codes_ho[s], y_ho, clf_w, clf_b).mean()),
            "clf_accuracy": [float(v) for v in linear_accuracy(codes_ho[s], y_ho, clf_w, clf_b)],
            "roundtrip_max_abs": rt,
            "mean_norm": float(np.linalg.norm(codes_ho[s], axis=1).mean()),
        }

    t = time.time()
    tab = {}
    for s in spaces:
        tab[s] = table1(codes_ho[s], y_ho, args.dci_n, args.seed)
        log(
            f"Table 1 {s}: "
            + ", ".join(f"{k} {tab[s][k]:.3f}" for k in ("min_acc", "max_acc", "mean_acc", "D", "C", "I"))
        )
    timings["table1"] = time.time() - t

    t = time.time()
    x_ed = x_ho[: args.n_edit]
    ebatch = min(args.batch, len(x_ed))  # no padding of small edit sets to the sampling batch
    p0 = classify_codes(G, clf, x_ed, args.space, ebatch)
    edits: dict = {"fixed": {}, "std": {}}
    for s, prm in spaces.items():
        if prm is None:
            normals = np.stack(
                [svm_direction(x_tr, p_tr[:, a], seed=args.seed).direction for a in range(len(attributes))]
            ).astype(np.float32)
            edit_fn = identity_edit
        else:
            normals = fit_wstar_normals(prm, x_tr, p_tr, cfg=fcfg, seed=args.seed)

            def edit_fn(x, n, st, prm=prm):
                return edit_wstar(prm, x, n, st, cfg=fcfg)

        proj = codes_tr[s] @ normals.T  # [N, A]
        q75, q25 = np.percentile(proj, [75, 25], axis=0)
        proj_std = (q75 - q25) / 1.349  # robust std (IQR; = std for a Gaussian): W* codes can have far outliers
        for mode, scales in (
            ("fixed", np.full(len(attributes), args.strength)),
            ("std", args.strength_std * proj_std),
        ):
            rows = edit_table(G, clf, x_ed, p0, normals, scales, attributes, args.space, edit_fn, ebatch)
            edits[mode][s] = {"rows": rows, "summary": summarise_edits(rows)}
            log(f"edits {mode} {s}: {edits[mode][s]['summary']}")
    timings["edits"] = time.time() - t

    rep = {
        "model": args.model,
        "n": args.n,
        "n_train": int(n_train),
        "n_heldout": int(args.n - n_train),
        "n_test": int(np.ceil(0.2 * (args.n - n_train))),
        "seed": args.seed,
        "space": args.space,
        "space_name": in_name,
        "dim": dim,
        "num_ws": num_ws,
        "w_dim": w_dim,
        "attributes": attributes,
        "clf_C": args.clf_C,
        "flow_config": fcfg.to_dict(),
        "runs": runs,
        "codes": codes_info,
        "table1": tab,
        "paper_table1": PAPER_TABLE1,
        "n_edit": int(len(x_ed)),
        "strength": args.strength,
        "strength_std": args.strength_std,
        "edits": edits,
        "timings": timings,
        "jax_backend": jax.default_backend(),
    }
    rep["verdict"] = verdicts(rep)
    rep["discussion"] = DISCUSSION
    rep["seconds"] = time.time() - t0
    rep["provenance"] = finish(prov)
    write(out_md, markdown(rep), rep)
    log(f"wrote {out_md} and {out_md.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    import jax

    jax.config.update("jax_numpy_dtype_promotion", "strict")
    sys.exit(main())
