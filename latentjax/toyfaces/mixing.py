"""Style mixing measured, not only shown (StyleGAN paper Figure 3, on toyfaces).

For pairs of latents (A, B) we copy B's W+ rows on the coarse layers (4x4-8x8) or on the fine
layers (64x64) into A and ask the attribute classifier which of A's attributes switched to
B's value. Only pairs where A and B disagree on an attribute count for it.
"""

from __future__ import annotations

import numpy as np

from latentjax.classifier import Classifier
from latentjax.generator import Generator
from latentjax.latent import layer_set, style_mix

COARSE_ATTRS = ("looking_right", "wide_face", "long_hair", "beard", "eyeglasses")  # pose / shape
FINE_ATTRS = ("blond_hair", "grey_hair", "dark_skin", "lit_from_right")  # colours / light


def style_mixing_report(G: Generator, clf: Classifier, n: int = 512, seed: int = 2024) -> dict:
    """{copied layer set: {attribute group: fraction of disagreeing attributes that took B's value}}."""
    rng = np.random.RandomState(seed)
    za = rng.randn(n, G.config.z_dim).astype(np.float32)
    zb = rng.randn(n, G.config.z_dim).astype(np.float32)
    wa, wb = G.mapping(za), G.mapping(zb)

    def labels(ws):
        imgs = np.concatenate([np.asarray(G.synthesis(ws[i : i + 256])) for i in range(0, n, 256)])
        return {k: v > 0.5 for k, v in clf(imgs).items()}

    la, lb = labels(wa), labels(wb)
    out = {}
    for name in ("coarse", "middle", "fine"):
        lm = labels(style_mix(wa, wb, list(layer_set(name, G.config.num_ws))))
        row = {}
        for group, attrs in (("coarse_attributes", COARSE_ATTRS), ("fine_attributes", FINE_ATTRS)):
            took, total = 0, 0
            for a in attrs:
                diff = la[a] != lb[a]
                took += int(np.sum(lm[a][diff] == lb[a][diff]))
                total += int(np.sum(diff))
            row[group] = took / max(total, 1)
        out[f"copy_{name}_from_B"] = row
    return out
