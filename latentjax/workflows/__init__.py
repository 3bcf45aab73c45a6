"""Workflows: the commands' work as library calls a notebook can make (files in, files out).

Each `latentjax` command parses its arguments, calls one function here (or `invert.invert`,
`align.align_images`, `dataset.sample_dataset`, `export.convert_model`) and prints what it returns;
progress is passed in as a callback, never printed here. The math they run lives in the core
modules (projector, edit, directions, metrics, flow); these only sequence it and write files.
"""

from latentjax.workflows.directions_folder import FittedDirections, fit_directions_to_folder
from latentjax.workflows.edit_sweep import EditSweep, edit_sweep
from latentjax.workflows.images import GeneratedImages, generate_images
from latentjax.workflows.measure import METRICS, Measurement, measure
from latentjax.workflows.projection import ProjectedImage, ProjectionProgress, project_images
from latentjax.workflows.wstar_training import TrainedFlow, train_wstar_flow

__all__ = [
    "EditSweep",
    "FittedDirections",
    "GeneratedImages",
    "METRICS",
    "Measurement",
    "ProjectedImage",
    "ProjectionProgress",
    "TrainedFlow",
    "edit_sweep",
    "fit_directions_to_folder",
    "generate_images",
    "measure",
    "project_images",
    "train_wstar_flow",
]
