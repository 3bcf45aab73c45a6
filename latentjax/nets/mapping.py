"""Mapping network z -> w (StyleGAN sec. 2; identical layout in StyleGAN2)."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from latentjax.config import GeneratorConfig
from latentjax.ops.conv import dense
from latentjax.ops.norm import SQRT2, bias_act, leaky_relu, pixel_norm


def mapping(layers: list[dict], z: jax.Array, cfg: GeneratorConfig) -> jax.Array:
    """z: [N, z_dim] -> w: [N, w_dim]. layers[i] = {'weight': [in, out], 'bias': [out]}.

    v1 (`G_mapping`, networks_stylegan.py): He gain sqrt(2) in the weight, plain leaky ReLU.
    v2 (networks_stylegan2.py / ADA): gain 1 in the weight, leaky ReLU times sqrt(2).
    Both use lr multiplier `cfg.mapping_lr_mul` on weights and biases.
    """
    x = z.astype(jnp.float32)
    if cfg.normalize_latents:
        x = pixel_norm(x, axis=1)
    for p in layers:
        if cfg.arch == "stylegan":
            x = leaky_relu(dense(x, p["weight"], p["bias"], gain=SQRT2, lr_mul=cfg.mapping_lr_mul))
        else:
            x = bias_act(
                dense(x, p["weight"], gain=1.0, lr_mul=cfg.mapping_lr_mul), p["bias"] * cfg.mapping_lr_mul, act="lrelu"
            )
    return x


class MappingNetwork(nn.Module):
    """Owns fc0..fc{L-1} and the running average `w_avg` (collection 'buffers')."""

    cfg: GeneratorConfig

    @nn.compact
    def __call__(self, z: jax.Array) -> tuple[jax.Array, jax.Array]:
        """z: [N, z_dim] -> (w: [N, w_dim], w_avg: [w_dim])."""
        cfg = self.cfg
        dims = [cfg.z_dim] + [cfg.mapping_fmaps] * (cfg.mapping_layers - 1) + [cfg.w_dim]
        layers = []
        for i in range(cfg.mapping_layers):
            # equalised lr: stored weights ~ N(0, 1/lr_mul), scaled at runtime
            init = nn.initializers.normal(1.0 / cfg.mapping_lr_mul)
            layers.append(
                {
                    "weight": self.param(f"fc{i}_weight", init, (dims[i], dims[i + 1]), jnp.float32),
                    "bias": self.param(f"fc{i}_bias", nn.initializers.zeros, (dims[i + 1],), jnp.float32),
                }
            )
        w_avg = self.variable("buffers", "w_avg", jnp.zeros, (cfg.w_dim,), jnp.float32)
        return mapping(layers, z, cfg), w_avg.value
