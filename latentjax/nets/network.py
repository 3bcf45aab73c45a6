"""The whole generator as one Flax module: mapping (+ W+ broadcast and truncation) and synthesis."""

from __future__ import annotations

import functools

import flax.linen as nn
import jax

from latentjax.config import GeneratorConfig
from latentjax.latent import broadcast_ws, truncate
from latentjax.nets.mapping import MappingNetwork
from latentjax.nets.stylegan import StyleGANSynthesis
from latentjax.nets.stylegan2 import StyleGAN2Synthesis
from latentjax.nets.stylegan3 import StyleGAN3Synthesis

SYNTHESIS = {"stylegan": StyleGANSynthesis, "stylegan2": StyleGAN2Synthesis, "stylegan3": StyleGAN3Synthesis}


class GeneratorNet(nn.Module):
    """Variables: {'params': {'mapping_network', 'synthesis_network'}, 'buffers': (w_avg, noise_const;
    StyleGAN3: the input's freqs/phases/transform, per-layer magnitude_ema and filters)}."""

    cfg: GeneratorConfig

    def setup(self):
        self.mapping_network = MappingNetwork(self.cfg)
        self.synthesis_network = SYNTHESIS[self.cfg.arch](self.cfg)

    def mapping(self, z: jax.Array, psi=1.0, cutoff=None) -> jax.Array:
        """z: [N, z_dim] -> ws: [N, num_ws, w_dim], truncated on layers < cutoff (None: all)."""
        w, w_avg = self.mapping_network(z)
        return truncate(broadcast_ws(w, self.cfg.num_ws), w_avg, psi, cutoff)

    def synthesis(self, ws: jax.Array, noise: list, transform: jax.Array | None = None) -> jax.Array:
        """ws: [N, num_ws, w_dim], noise: one entry per noise layer -> images [N, R, R, C].
        transform: StyleGAN3's input transform ([3, 3] or [N, 3, 3]) instead of the stored one."""
        if transform is None:
            return self.synthesis_network(ws, noise)
        if self.cfg.arch != "stylegan3":
            raise ValueError(f"an input transform needs a StyleGAN3 model, this one is {self.cfg.arch}")
        return self.synthesis_network(ws, noise, transform)

    def __call__(self, z: jax.Array, psi=1.0, cutoff=None, noise: list | None = None) -> jax.Array:
        ws = self.mapping(z, psi, cutoff)
        return self.synthesis(ws, noise or [None] * len(self.cfg.noise_resolutions))


@functools.partial(jax.jit, static_argnums=0)
def init_variables(cfg: GeneratorConfig, key: jax.Array) -> dict:
    """Fresh variables with NVIDIA's initialisers (weights N(0,1)/lr_mul, noise maps N(0,1)).

    Jitted: Flax's init runs the forward pass, and op by op that is hundreds of tiny XLA compiles
    (toy SG2: 20.6 CPU-s eager, 6.7 jitted; toy SG3 25.8 vs 4.1); under jit XLA drops the unused
    forward computation and compiles only the initialisers.
    """
    import jax.numpy as jnp

    z = jnp.zeros((1, cfg.z_dim), jnp.float32)
    return GeneratorNet(cfg).init({"params": key}, z)
