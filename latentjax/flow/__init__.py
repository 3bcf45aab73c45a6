"""W*: a RealNVP flow that unfolds W+ into a disentangled proxy space (paper 002).

realnvp: T (affine couplings, pure forward/inverse with log-det, identity at init); losses: the
paper's L_a (Eq. 1), L_lm (Eq. 2), L_ap (Eq. 3); train: resumable jit/optax training with orbax
checkpoints; io: pickle-free save/load of T with its classifiers; edit: InterFaceGAN edits in W*;
fit: the whole recipe (fixed classifiers, training, W* normals) in one call.
"""

from latentjax.flow.edit import edit_wstar, fit_wstar_normals, from_wstar, to_wstar
from latentjax.flow.fit import fit_wstar, fixed_classifiers
from latentjax.flow.io import FlowModel, load_flow, save_flow
from latentjax.flow.losses import (
    FlowLossConfig,
    attribute_loss,
    attribute_preservation_loss,
    classifier_logits,
    flow_loss,
    large_margin_loss,
    unit_normals,
)
from latentjax.flow.realnvp import FlowConfig, RealNVP, flatten_ws, forward, init_flow, inverse, unflatten_ws
from latentjax.flow.train import FlowTrainConfig, batch_indices, train_flow, train_step

__all__ = [
    "FlowConfig",
    "FlowLossConfig",
    "FlowModel",
    "FlowTrainConfig",
    "RealNVP",
    "attribute_loss",
    "attribute_preservation_loss",
    "batch_indices",
    "classifier_logits",
    "edit_wstar",
    "fit_wstar",
    "fit_wstar_normals",
    "fixed_classifiers",
    "flatten_ws",
    "flow_loss",
    "forward",
    "from_wstar",
    "init_flow",
    "inverse",
    "large_margin_loss",
    "load_flow",
    "save_flow",
    "to_wstar",
    "train_flow",
    "train_step",
    "unflatten_ws",
    "unit_normals",
]
