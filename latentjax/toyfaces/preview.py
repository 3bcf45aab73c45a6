"""Contact sheets for looking at the toy-face world: `python -m latentjax.toyfaces.preview [OUT_DIR]`.

Writes OUT_DIR/toyfaces_sheet.png (8x8 random faces, z ~ N(0, I), seed 1) and OUT_DIR/toyfaces_sweep.png
(one row per factor, in `FACTORS` order: that factor swept over its range from a neutral face).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from latentjax.toyfaces.factors import FACTOR_SPECS, FACTORS, factors_of, sample_z
from latentjax.toyfaces.render import render

NEUTRAL = {"hair_length": 0.3, "hair_color": 0.35, "grey": 0.1, "skin_tone": 0.3, "face_width": 0.5}
NEUTRAL |= {"eye_size": 0.5, "background_hue": 0.55, "mouth_open": 0.2}
"""A mid-range face (switches off, signed factors 0) for sweeps."""


def contact_sheet(images, cols: int, scale: int = 4, pad: int = 1) -> Image.Image:
    """images [N, H, W, 3] in [-1, 1] -> one PIL image, `cols` per row, upscaled `scale`x (nearest)."""
    imgs = np.clip((np.asarray(images, np.float32) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
    n, h, w, _ = imgs.shape
    rows = -(-n // cols)
    sheet = np.full((rows * (h + 2 * pad), cols * (w + 2 * pad), 3), 255, np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        y0, x0 = r * (h + 2 * pad) + pad, c * (w + 2 * pad) + pad
        sheet[y0 : y0 + h, x0 : x0 + w] = imgs[i]
    return Image.fromarray(sheet).resize((sheet.shape[1] * scale, sheet.shape[0] * scale), Image.NEAREST)


def sweep_factors(steps: int = 8) -> np.ndarray:
    """[len(FACTORS) * steps, len(FACTORS)]: row block i sweeps factor i over its range from `NEUTRAL`."""
    base = np.array([NEUTRAL.get(n, 0.0) for n in FACTORS], np.float32)
    out = np.tile(base, (len(FACTORS) * steps, 1))
    for i, s in enumerate(FACTOR_SPECS):
        vals = (np.arange(steps) >= steps // 2) * 1.0 if s.kind == "switch" else np.linspace(s.lo, s.hi, steps)
        out[i * steps : (i + 1) * steps, i] = vals
    return out


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "/tmp")
    out.mkdir(parents=True, exist_ok=True)
    contact_sheet(render(factors_of(sample_z(1, 64))), cols=8).save(out / "toyfaces_sheet.png")
    contact_sheet(render(sweep_factors()), cols=8).save(out / "toyfaces_sweep.png")
    print(f"wrote {out / 'toyfaces_sheet.png'} and {out / 'toyfaces_sweep.png'}")


if __name__ == "__main__":
    main()
