"""Flax modules: they own parameters and call the pure functions of `latentjax.ops`."""
