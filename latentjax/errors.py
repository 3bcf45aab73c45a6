"""Errors raised when a model file cannot be used; each message names the problem."""


class LoadError(ValueError):
    """A model file is unreadable, corrupt, or not a generator we can build."""


class UnsafePickleError(LoadError):
    """A pickle asked for a class or function outside the allow-list (never executed)."""


class UnsupportedModelError(LoadError):
    """A valid NVIDIA pickle whose architecture or configuration we refuse to mis-build."""
