"""Toy faces: a procedural cartoon-face world with known ground truth.

z [N, Z_DIM] --factors_of--> factors [N, len(FACTORS)] --render--> images [N, 64, 64, 3] in [-1, 1]
                                    \\--labels_from_factors--> {attribute: bool [N]}

The factor map is fixed, nonlinear and entangled like real data (see `factors`); the renderer
is pure JAX (see `render`).
"""

from latentjax.toyfaces.factors import (
    ATTRIBUTES,
    FACTORS,
    MODEL_TAG,
    Z_DIM,
    factors_of,
    is_toy_model,
    labels_from_factors,
    labels_of,
    sample_z,
)
from latentjax.toyfaces.render import render

__all__ = [
    "ATTRIBUTES",
    "FACTORS",
    "MODEL_TAG",
    "Z_DIM",
    "factors_of",
    "is_toy_model",
    "labels_from_factors",
    "labels_of",
    "render",
    "sample_z",
]
