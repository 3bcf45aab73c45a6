"""Disentanglement and quality metrics: linear separability, perceptual path length, DCI (papers 002, 003)."""
