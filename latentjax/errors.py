"""The project's own errors; each message names the file or argument and what is wrong."""


class LoadError(ValueError):
    """A model file is unreadable, corrupt, or not a generator we can build."""


class UnsafePickleError(LoadError):
    """A pickle asked for a class or function outside the allow-list (never executed)."""


class UnsupportedModelError(LoadError):
    """A valid NVIDIA pickle whose architecture or configuration we refuse to mis-build."""


class InputError(ValueError):
    """A user's input is unusable: an argument of the wrong shape, dtype or range (NaN latents, complex
    z, [0, 255] pixels where [-1, 1] is expected, probabilities as labels), or an input file (photo,
    latents .npz, landmarks JSON) that is missing, unreadable or unusable. Raised by
    `latentjax.validate` at the public API edge; the message names the argument or file."""


class MissingExtraError(ImportError):
    """An optional feature needs packages that are not installed; the message names the pip extra."""


class ExportError(ValueError):
    """A model the requested output format cannot express (the message says what and why)."""
