"""Write our generators in other projects' formats, without their code or frameworks:
rosinality `.pt` checkpoints (torch.save zip format) and NVIDIA TF-era network pickles."""

from latentjax.export.model_writer import ConvertResult, convert_model
from latentjax.export.nvidia_pickle import write_nvidia_pickle
from latentjax.export.rosinality import write_rosinality

__all__ = ["ConvertResult", "convert_model", "write_nvidia_pickle", "write_rosinality"]
