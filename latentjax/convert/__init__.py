"""Import NVIDIA's pickles without TensorFlow or PyTorch, and without executing anything in them."""

from latentjax.convert.pickles import read_generator_pickle

__all__ = ["read_generator_pickle"]
