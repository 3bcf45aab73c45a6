"""The project's own errors; each message names the file or argument and what is wrong."""


class LoadError(ValueError):
    """A model file is unreadable, corrupt, or not a generator we can build."""


class UnsafePickleError(LoadError):
    """A pickle asked for a class or function outside the allow-list (never executed)."""


class UnsupportedModelError(LoadError):
    """A valid NVIDIA pickle whose architecture or configuration we refuse to mis-build."""


class InputError(ValueError):
    """A user's input file (photo, landmarks JSON) is missing, unreadable or unusable (no face in it)."""


class MissingExtraError(ImportError):
    """An optional feature needs packages that are not installed; the message names the pip extra."""


class ExportError(ValueError):
    """A model the requested output format cannot express (the message says what and why)."""
