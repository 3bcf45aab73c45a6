"""latentjax: StyleGAN / StyleGAN2 in JAX + Flax, and tools for their latent spaces."""

from latentjax.classifier import Classifier, load_classifier
from latentjax.config import GeneratorConfig
from latentjax.errors import LoadError, UnsafePickleError, UnsupportedModelError
from latentjax.generator import Generator
from latentjax.load import load_generator

__version__ = "0.1.0"
__all__ = [
    "Classifier",
    "Generator",
    "GeneratorConfig",
    "LoadError",
    "UnsafePickleError",
    "UnsupportedModelError",
    "load_classifier",
    "load_generator",
]
