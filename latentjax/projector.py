"""Projection: find the latent whose image matches a target, for N targets at once (`latentjax project`).

The algorithm is NVIDIA's projector (stylegan2-ada-pytorch `projector.py`, the PyTorch port of the
TF StyleGAN2 `projector.py`), vectorised over a batch:

    w_avg, w_std  <- 10000 z from RandomState(123) through the mapping network (row 0 of W+)
    w_0 = w_avg;  noise maps ~ N(0, 1)
    step i of T, t = i / T:
        lr     = lr0 * cos-rampdown(last 25% of t) * linear-rampup(first 5% of t)
        sigma  = w_std * 0.05 * max(0, 1 - t / 0.75)^2               # latent noise, gone by t = 0.75
        ws     = broadcast(w + sigma * N(0, 1))
        loss_n = LPIPS(down256(G(ws_n, noise_n)), down256(target_n)) + mse_weight * MSE_n
                 + 1e5 * noise_reg(noise_n)
        Adam(0.9, 0.999) step on w (and the noise maps); noise maps renormalised to mean 0, std 1

Shapes: targets [N, R, R, C] float32 in [-1, 1] at the generator's resolution R; the optimised
latent is w [N, 1, w_dim] in space "w" (NVIDIA's, one w broadcast to all layers) or
[N, num_ws, w_dim] in space "w+" (Image2StyleGAN-style, every layer free, initialised from w_avg);
the result's ws are always [N, num_ws, w_dim]. Noise maps are per image, [N, H, W] per layer.

Batching keeps images independent: the total loss is sum_n loss_n, so image n's gradient depends
only on its own latent and noise, Adam is elementwise, and image n's random draws come from
`fold_in(key, n)`. Projecting [a, b] gives the same result for a as projecting [a] (up to float
rounding of batched convolutions). The batch is split over local devices (`latentjax.sharding`).

Differences from NVIDIA's projector (all deliberate, none changes the algorithm):
  - Distance: `latentjax.perceptual.lpips` (LPIPS vgg v0.1, the lpips package's definition) on
    [-1, 1] images. NVIDIA feeds [0, 255] images to their VGG16 TorchScript (`vgg16.pt`,
    return_lpips=True) and sums the squared feature differences; that network rescales its input
    itself and packages the same LPIPS-VGG distance, so values are close but not bit-identical.
  - N targets per run (NVIDIA: one), each with its own noise maps; W+ as an option; optional pixel
    MSE (`mse_weight`) and paper 001's two stages (`mse_steps` of pixel MSE only, then perceptual).
    MSE is taken at the generator's resolution (paper 001's pixel loss), LPIPS at <= 256^2 (NVIDIA).
  - A non-finite loss raises FloatingPointError instead of continuing.

StyleGAN3 (no noise inputs: W/W+ only, the noise regulariser skipped) has two options of its own:
  - `anchor_input`: W+ row 0, which drives the Fourier-feature input's rotation/translation affine,
    is held at the model's w_avg (the "aligned" input of the average face), so the projected latent
    changes what is drawn, not where the input grid sits; the result's ws carry w_avg in row 0.
  - `fit_transform`: the input transform (rotation angle + translation, 3 numbers per image, what
    `generate --rotate/--translate` sets) is optimised jointly with the latent (same Adam, its lr
    times `transform_lr_mul`), from the identity, so a tilted or off-centre target is matched by
    turning the input grid instead of being forced into the latent. `result.transform` holds
    (translate x, translate y, rotate degrees) per image, gen_images.py's units.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from latentjax import validate
from latentjax.config import GeneratorConfig
from latentjax.generator import Generator, random_noise, synthesis_fn
from latentjax.latent_types import MAPPED, W, check_space
from latentjax.nets.stylegan3 import input_transforms
from latentjax.ops.resample import area_downsample, block_mean
from latentjax.perceptual import LPIPS_LAYERS, load_lpips_params, lpips, normalize_channels, vgg16_features
from latentjax.perceptual.lpips import scaling_layer
from latentjax.sharding import device_padding, map_batches, pad_rows, replicate, split_rows

SPACES = MAPPED  # W (NVIDIA's projector) or W+ (every row free): latent_types' vocabulary
PERCEPTUAL = ("lpips", "vgg", "none")
DEFAULT_SEED = 303  # NVIDIA's projector --seed default
MICRO_BATCH_PIXELS = 1 << 19  # automatic micro-batching: at most this many pixels per forward/backward pass


@dataclass(frozen=True)
class ProjectConfig:
    """Every knob of the projector. Defaults are NVIDIA's (stylegan2-ada-pytorch projector.py)."""

    initial_learning_rate: float = 0.1
    initial_noise_factor: float = 0.05  # latent noise std at t = 0, in units of w_std
    lr_rampdown_length: float = 0.25  # fraction of the run with the cosine lr decay (at the end)
    lr_rampup_length: float = 0.05  # fraction of the run with the linear lr warm-up (at the start)
    noise_ramp_length: float = 0.75  # latent noise decays quadratically to 0 at this fraction
    regularize_noise_weight: float = 1e5
    w_avg_samples: int = 10000
    w_avg_seed: int = 123  # NVIDIA: np.random.RandomState(123)
    beta1: float = 0.9
    beta2: float = 0.999
    adam_eps: float = 1e-8  # torch.optim.Adam's default
    optimize_noise: bool = True  # False: the model's stored ('const') maps, fixed; nothing to regularise
    perceptual: str = "lpips"  # "lpips" | "vgg" (paper 001: MSE of VGG16 relu3_3 features) | "none"
    perceptual_weight: float = 1.0
    vgg_layer: str = "relu3_3"  # for perceptual="vgg"
    mse_weight: float = 0.0  # pixel MSE on [-1, 1] images at the generator's resolution
    mse_steps: int = 0  # paper 001: the first mse_steps steps use pixel MSE only, then the perceptual loss
    loss_resolution: int = 256  # perceptual loss on images area-downsampled to this when larger (NVIDIA)
    record_every: int = 0  # keep w every k steps (and the last) for progress videos; 0 = none
    # Images per forward/backward pass inside a step (the gradient is the same, only memory changes):
    # None = automatic (`micro_batch_size`: up to 8 images at 256^2, one at a time at 1024^2),
    # 0 = the whole batch in one pass.
    micro_batch: int | None = None
    anchor_input: bool = False  # StyleGAN3: the Fourier input's affine reads w_avg, not the projected w
    fit_transform: bool = False  # StyleGAN3: fit rotation + translation of the input per image
    transform_lr_mul: float = 0.1  # the transform's lr relative to the latent's (radians / image widths)

    def __post_init__(self):
        positive = ("initial_learning_rate", "lr_rampdown_length", "lr_rampup_length", "noise_ramp_length")
        for name in positive:
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"ProjectConfig.{name} must be a finite number > 0, got {v}")
        nonneg = ("initial_noise_factor", "regularize_noise_weight", "perceptual_weight", "mse_weight")
        nonneg += ("transform_lr_mul",)
        for name in nonneg:
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"ProjectConfig.{name} must be a finite number >= 0, got {v}")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ValueError(f"Adam betas must lie in [0, 1), got ({self.beta1}, {self.beta2})")
        if self.perceptual not in PERCEPTUAL:
            raise ValueError(f"ProjectConfig.perceptual must be one of {PERCEPTUAL}, got {self.perceptual!r}")
        if self.perceptual_weight == 0 or self.perceptual == "none":
            if self.mse_weight == 0:
                raise ValueError("nothing to optimise: set a perceptual loss or mse_weight > 0")
        if self.w_avg_samples < 2:
            raise ValueError(f"ProjectConfig.w_avg_samples must be >= 2, got {self.w_avg_samples}")
        for name in ("mse_steps", "record_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"ProjectConfig.{name} must be >= 0, got {getattr(self, name)}")
        if self.loss_resolution < 1:
            raise ValueError(f"ProjectConfig.loss_resolution must be >= 1, got {self.loss_resolution}")
        if self.micro_batch is not None and self.micro_batch < 0:
            raise ValueError(f"ProjectConfig.micro_batch must be None (automatic) or >= 0, got {self.micro_batch}")


@dataclass(frozen=True)
class ProjectionResult:
    """What `project` found for N targets (numpy, on the host)."""

    ws: np.ndarray  # [N, num_ws, w_dim] final latents (without the latent noise), for G.synthesis
    w: np.ndarray | None  # [N, w_dim] in space "w" (ws is its broadcast); None in "w+"
    noise: list[np.ndarray] | None  # optimised maps, [N, H, W] per noise layer; None: stored maps used
    images: np.ndarray  # [N, R, R, C] raw G(ws, noise): the projection itself
    loss: np.ndarray  # [steps, N] each step's per-image loss (before its update)
    lpips: np.ndarray  # [N] final LPIPS(images, targets) at the loss resolution
    mse: np.ndarray  # [N] final pixel MSE at R x R on the [-1, 1] scale
    space: str
    history_steps: np.ndarray | None = None  # [K] steps recorded (config.record_every)
    ws_history: np.ndarray | None = None  # [K, N, num_ws, w_dim] w after those steps
    # [N, 3] fitted (translate x, translate y, rotate degrees) of StyleGAN3's input (fit_transform);
    # render with G.with_transform((x, y), deg) or `generate --translate x,y --rotate deg`
    transform: np.ndarray | None = None


class ProjectState(NamedTuple):
    """The optimiser's carry. params: {"w": [N, k, w_dim] (k = 1 in W, num_ws in W+),
    "noise": [[N, H, W] per noise layer] (empty when noise is not optimised),
    "transform": [N, 3] (translate x, y in image widths, angle in radians; only with fit_transform)}."""

    params: dict
    opt_state: optax.OptState


@dataclass(frozen=True)
class StepSpec:
    """The static part of a step (changing it recompiles); everything else is traced."""

    gcfg: GeneratorConfig
    optimize_noise: bool
    perceptual: str  # "lpips" | "vgg" | "none" (the MSE-only stage)
    vgg_layer: str
    loss_resolution: int
    beta1: float
    beta2: float
    adam_eps: float
    micro_batch: int = 0  # rows of the (per-process) batch per forward/backward pass; 0 = all at once
    anchor_input: bool = False
    fit_transform: bool = False

    def optimizer(self) -> optax.GradientTransformation:
        # Adam without the lr: the scheduled lr multiplies the update in `project_step`.
        return optax.scale_by_adam(b1=self.beta1, b2=self.beta2, eps=self.adam_eps)


# ---- pure pieces ----------------------------------------------------------------------------------


def schedule(step: int, steps: int, config: ProjectConfig) -> tuple[float, float]:
    """(learning rate, latent-noise factor) at `step` of `steps`: NVIDIA's ramps with t = step / steps.

    The noise factor is in units of w_std. Step 0 has lr 0 (NVIDIA's rampup starts at 0 as well).
    """
    t = step / steps
    noise_factor = config.initial_noise_factor * max(0.0, 1.0 - t / config.noise_ramp_length) ** 2
    ramp = min(1.0, (1.0 - t) / config.lr_rampdown_length)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    ramp *= min(1.0, t / config.lr_rampup_length)
    return config.initial_learning_rate * ramp, noise_factor


def _avg_pool2(n: jax.Array) -> jax.Array:
    """[N, H, W] -> [N, H/2, W/2], 2x2 means (F.avg_pool2d(kernel_size=2))."""
    _, h, w = n.shape
    return block_mean(n[..., None], h // 2, w // 2)[..., 0]


def noise_regularization(noise: Sequence[jax.Array]) -> jax.Array:
    """NVIDIA's noise penalty per image: noise [[N, H, W], ...] -> [N] float32.

    For each map and each pyramid level down to 8x8 (2x average pooling), the squared mean of the
    map times itself shifted by one pixel, horizontally and vertically (circularly): the lag-1
    autocorrelation. Near 0 for white noise, large for smooth maps, so the noise cannot smuggle
    image content past the latent (StyleGAN2 Sec. 5).
    """
    if not noise:
        raise ValueError("no noise maps to regularise")
    reg = jnp.zeros(noise[0].shape[:1], jnp.float32)
    for n in noise:
        while True:
            reg += jnp.square(jnp.mean(n * jnp.roll(n, 1, axis=2), axis=(1, 2)))
            reg += jnp.square(jnp.mean(n * jnp.roll(n, 1, axis=1), axis=(1, 2)))
            if n.shape[1] <= 8:
                break
            n = _avg_pool2(n)
    return reg


def normalize_noise(n: jax.Array) -> jax.Array:
    """[N, H, W] -> each map shifted/scaled to mean 0, mean square 1 (NVIDIA, after every step)."""
    n = n - jnp.mean(n, axis=(1, 2), keepdims=True)
    return n * jax.lax.rsqrt(jnp.mean(jnp.square(n), axis=(1, 2), keepdims=True))


def _rgb(images: jax.Array) -> jax.Array:
    """VGG wants 3 channels: grayscale generators' images are repeated."""
    return jnp.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


def target_features(lpips_params: dict, targets: jax.Array, *, spec: StepSpec) -> dict[str, jax.Array]:
    """Perceptual features of the (fixed) targets, computed once (NVIDIA: `target_features`), so each
    step runs VGG on the synthesised images only. targets: [N, R, R, C] -> {layer: [N, h, w, ch]}:
    LPIPS: channel-normalised relu{1_2..5_3} of the ScalingLayer input; vgg: ImageNet-normalised `vgg_layer`.
    """
    if spec.perceptual == "none":
        return {}
    y = area_downsample(_rgb(targets), spec.loss_resolution)
    if spec.perceptual == "vgg":
        return vgg16_features(lpips_params["vgg16"], y, (spec.vgg_layer,))
    feats = vgg16_features(lpips_params["vgg16"], scaling_layer(y), LPIPS_LAYERS, normalize=False)
    return {tap: normalize_channels(f) for tap, f in feats.items()}


def perceptual_distance(lpips_params: dict, images: jax.Array, tfeats: dict, *, spec: StepSpec) -> jax.Array:
    """[N] distance of images [N, R, R, C] to the targets behind `tfeats` (`target_features`).

    LPIPS: sum_l mean_hw lin_l . (n(f_l(x)) - n(f_l(y)))^2, i.e. `lpips(params, x, y)` with y's half
    precomputed; vgg: mean squared `vgg_layer` feature difference (`vgg_feature_distance`, paper 001).
    """
    x = area_downsample(_rgb(images), spec.loss_resolution)
    if spec.perceptual == "vgg":
        fx = vgg16_features(lpips_params["vgg16"], x, (spec.vgg_layer,))[spec.vgg_layer]
        return jnp.mean(jnp.square(fx - tfeats[spec.vgg_layer]), axis=(1, 2, 3))
    feats = vgg16_features(lpips_params["vgg16"], scaling_layer(x), LPIPS_LAYERS, normalize=False)
    terms = [
        jnp.mean(jnp.square(normalize_channels(feats[tap]) - tfeats[tap]) @ lpips_params["lin"][tap], axis=(1, 2))
        for tap in LPIPS_LAYERS
    ]
    return sum(terms[1:], terms[0])


def image_losses(
    lpips_params: dict, images: jax.Array, targets: jax.Array, tfeats: dict, weights: dict, *, spec: StepSpec
) -> jax.Array:
    """Per-image reconstruction loss [N]: perceptual_w * D(down(x), down(y)) + mse_w * MSE(x, y).

    images, targets: [N, R, R, C] raw ([-1, 1]); tfeats: `target_features(targets)`;
    weights: {"perceptual", "mse"} float32 scalars.
    """
    loss = weights["mse"] * jnp.mean(jnp.square(images - targets), axis=(1, 2, 3))
    if spec.perceptual != "none":
        loss = loss + weights["perceptual"] * perceptual_distance(lpips_params, images, tfeats, spec=spec)
    return loss


def transform_matrices(t: jax.Array) -> jax.Array:
    """Fitted transform parameters [N, 3] (translate x, y in image widths, angle in radians) ->
    StyleGAN3 input transforms [N, 3, 3] (the stored inverse, as `G.with_transform` sets)."""
    return input_transforms(t[:, :2], t[:, 2])


def full_ws(variables: dict, w: jax.Array, gcfg: GeneratorConfig, anchor_input: bool = False) -> jax.Array:
    """w: [N, k, w_dim] (k = 1 or num_ws) -> ws [N, num_ws, w_dim]; with `anchor_input` row 0 (the
    StyleGAN3 input's affine) is the model's w_avg."""
    ws = jnp.broadcast_to(w, (w.shape[0], gcfg.num_ws, w.shape[2]))
    if anchor_input:
        w_avg = variables["buffers"]["mapping_network"]["w_avg"]
        ws = ws.at[:, 0].set(jnp.broadcast_to(w_avg, (w.shape[0], w.shape[2])))
    return ws


def _synthesize(
    variables: dict, w: jax.Array, noise: list, gcfg: GeneratorConfig, transform=None, anchor_input: bool = False
) -> jax.Array:
    """w: [N, k, w_dim] (k = 1 or num_ws) -> images; noise [] means the stored maps; transform:
    fitted [N, 3] parameters (`transform_matrices`) or None (the stored transform)."""
    ws = full_ws(variables, w, gcfg, anchor_input)
    m = None if transform is None else transform_matrices(transform)
    return synthesis_fn(variables, ws, list(noise) or [None] * len(gcfg.noise_resolutions), m, cfg=gcfg)


def micro_batch_size(n: int, resolution: int, requested: int | None, devices: int = 1) -> int:
    """Rows per forward/backward pass for a (padded) batch of n rows split over `devices`.

    requested: None = automatic, 0 = the whole batch, k = at most k rows. The result divides n and is a
    multiple of `devices` (every pass keeps every device busy). Automatic: at most
    `MICRO_BATCH_PIXELS` = 2^19 pixels per pass (one 1024^2 image, two 512^2, eight 256^2): XLA
    compiles a config-f W+ step to 14.7 GiB of working memory for 8 images at 1024^2 and 5.5 GiB for
    8 at 256^2, about 0.7 GiB per 2^19 pixels (BENCHMARKS.md "Projection: memory and time per step").
    """
    if requested is None:
        requested = max(1, MICRO_BATCH_PIXELS // (resolution * resolution))
    if requested == 0 or requested >= n:
        return n
    per_device, most = n // devices, max(1, requested // devices)  # rows per device per pass: <= most
    chunks = next(c for c in range(1, per_device + 1) if per_device % c == 0 and per_device // c <= most)
    return n // chunks


def _losses(params, targets, tfeats, keys, variables, lpips_params, step, w_noise_scale, weights, *, spec):
    """Per-image loss [n] of params {"w": [n, k, w_dim], "noise": [[n, H, W], ...], "transform": [n, 3]
    (fit_transform only)} (pre-update)."""
    w = params["w"]
    eps = jax.vmap(lambda k: jax.random.normal(jax.random.fold_in(k, step), w.shape[1:], jnp.float32))(keys)
    noisy = w + w_noise_scale * eps
    images = _synthesize(variables, noisy, params["noise"], spec.gcfg, params.get("transform"), spec.anchor_input)
    loss = image_losses(lpips_params, images, targets, tfeats, weights, spec=spec)
    if spec.optimize_noise:
        loss = loss + weights["reg"] * noise_regularization(params["noise"])
    return loss


def _loss_and_grad(params, targets, tfeats, keys, variables, lpips_params, step, w_noise_scale, weights, *, spec):
    """(loss [n], d sum(loss) / d params): a sum, so image i's gradient is d loss_i only."""

    def total(params):
        loss = _losses(params, targets, tfeats, keys, variables, lpips_params, step, w_noise_scale, weights, spec=spec)
        return jnp.sum(loss), loss

    (_, loss), grads = jax.value_and_grad(total, has_aux=True)(params)
    return loss, grads


def _update(
    state: ProjectState, grads: dict, lr: jax.Array, transform_lr: jax.Array, *, spec: StepSpec
) -> ProjectState:
    """Adam (lr scheduled outside; the StyleGAN3 input transform's own), then NVIDIA's
    renormalisation of the noise maps."""
    with jax.numpy_dtype_promotion("standard"):  # optax's bias correction mixes int32 counts and floats
        updates, opt_state = spec.optimizer().update(grads, state.opt_state, state.params)
    lrs = {"w": lr, "noise": lr, "transform": transform_lr}
    params = {
        k: jax.tree_util.tree_map(lambda p, u, lr_k=lrs[k]: p - lr_k * u, v, updates[k])
        for k, v in state.params.items()
    }
    params["noise"] = [normalize_noise(n) for n in params["noise"]]
    return ProjectState(params, opt_state)


@functools.partial(jax.jit, static_argnames=("spec",))
def _one_pass_step(state, variables, lpips_params, targets, tfeats, keys, step, lr, w_noise_scale, weights, *, spec):
    loss, grads = _loss_and_grad(
        state.params, targets, tfeats, keys, variables, lpips_params, step, w_noise_scale, weights, spec=spec
    )
    return _update(state, grads, lr, lr * _transform_lr_mul(weights), spec=spec), loss


def _transform_lr_mul(weights: dict):
    """The input transform's lr multiplier (absent from hand-made weight dicts: the default)."""
    return weights.get("transform_lr_mul", ProjectConfig.transform_lr_mul)


_chunk_loss_and_grad = jax.jit(_loss_and_grad, static_argnames=("spec",))
_jit_update = jax.jit(_update, static_argnames=("spec",))


def project_step(
    state: ProjectState,
    variables: dict,
    lpips_params: dict,
    targets: jax.Array,
    tfeats: dict,
    keys: jax.Array,
    step: jax.Array,
    lr: jax.Array,
    w_noise_scale: jax.Array,
    weights: dict,
    *,
    spec: StepSpec,
) -> tuple[ProjectState, jax.Array]:
    """One projector step for N images; returns (new state, loss [N] float32 of the pre-update params).

    targets: [N, R, R, C]; tfeats: `target_features(targets)`;
    keys: [N] per-image keys (latent noise of step s: fold_in(key_n, s));
    step: int32; lr, w_noise_scale: float32; weights: {"perceptual", "mse", "reg", "transform_lr_mul"}
    float32 (traced: changing them does not recompile).

    spec.micro_batch = k (0 < k < N, dividing N): forward and backward run k images at a time,
    each pass a call of one compiled program, so a pass keeps the activations of k images, not N;
    the per-image gradients are concatenated and Adam steps once. The same loss and gradient (image
    i's gradient involves only its own rows), a fraction of the memory. Pass c holds rows c, c + N/k,
    c + 2N/k, ...: with the batch sharded over devices in blocks, every pass spans every device.
    (Passes are separate calls, not a `lax.map` inside one program: that took 20 s per image-step at
    256^2 where batch-1 steps took 8 s, on a loaded 2-core CPU.) StyleGAN3 normalises the styles
    over the batch, official behaviour: there a pass's images depend on their pass-mates at the 1e-6
    level, as they depend on batch-mates without micro-batching.
    """
    args = (variables, lpips_params, step, w_noise_scale, weights)
    n = keys.shape[0]
    if not spec.micro_batch or spec.micro_batch >= n:
        return _one_pass_step(
            state, variables, lpips_params, targets, tfeats, keys, step, lr, w_noise_scale, weights, spec=spec
        )
    if n % spec.micro_batch:
        raise ValueError(f"micro_batch {spec.micro_batch} must divide the batch {n}")
    chunks = n // spec.micro_batch
    per_image = (state.params, targets, tfeats, keys)
    losses, grads = [], []
    for c in range(chunks):
        rows = np.arange(c, n, chunks)
        loss, g = _chunk_loss_and_grad(*jax.tree_util.tree_map(lambda a, r=rows: a[r], per_image), *args, spec=spec)
        losses.append(loss)
        grads.append(g)
    order = np.argsort(np.concatenate([np.arange(c, n, chunks) for c in range(chunks)]))  # back to row order
    loss = jnp.concatenate(losses)[order]
    grads = jax.tree_util.tree_map(lambda *g: jnp.concatenate(g)[order], *grads)
    return _jit_update(state, grads, lr, lr * _transform_lr_mul(weights), spec=spec), loss


@functools.partial(jax.jit, static_argnames=("spec",))
def _final(variables, lpips_params, w, noise, targets, transform=None, *, spec: StepSpec):
    """(images [N, R, R, C], lpips [N], mse [N]) of latents w: [N, k, w_dim] with noise (or stored
    maps) and the fitted transform [N, 3] (or the stored one)."""
    images = _synthesize(variables, w, noise, spec.gcfg, transform, spec.anchor_input)
    x = area_downsample(_rgb(images), spec.loss_resolution)
    y = area_downsample(_rgb(targets), spec.loss_resolution)
    return images, lpips(lpips_params, x, y), jnp.mean(jnp.square(images - targets), axis=(1, 2, 3))


# ---- the driver ------------------------------------------------------------------------------------


def w_stats(G: Generator, samples: int = 10000, seed: int = 123, chunk: int = 1000) -> tuple[np.ndarray, float]:
    """(w_avg [w_dim] float32, w_std float) of `samples` mapped z, as NVIDIA's projector.

    z = RandomState(seed).randn(samples, z_dim); w_std = sqrt(sum((w - w_avg)^2) / samples), the
    root of the total variance summed over the w_dim dimensions (a scalar).
    """
    z = np.random.RandomState(seed).randn(samples, G.config.z_dim).astype(np.float32)
    chunk = min(chunk, samples)
    w = map_batches(lambda zc: G.mapping(zc)[:, 0], z, chunk).astype(np.float64)  # one compiled mapping
    w_avg = w.mean(axis=0)
    w_std = float((np.sum((w - w_avg) ** 2) / samples) ** 0.5)
    return w_avg.astype(np.float32), w_std


def check_targets(targets, cfg: GeneratorConfig) -> np.ndarray:
    """Validate targets: [N, R, R, C] float in [-1, 1], finite -> float32 numpy (uint8 or [0, 255]
    floats are refused with the rescaling to use; see `latentjax.validate.images`)."""
    want = (cfg.resolution, cfg.resolution, cfg.img_channels)
    if np.ndim(targets) == 4 and tuple(np.shape(targets)[1:]) != want:
        raise validate.InputError(
            f"targets: expected [N, {', '.join(map(str, want))}] (this generator's images), got "
            f"{list(np.shape(targets))}; load files with latentjax.targets.load_targets"
        )
    return np.asarray(validate.images(targets, "targets", ("N", *want)))


def image_keys(key: jax.Array | None, n: int) -> jax.Array:
    """[n] per-image keys: fold_in(key, i) for a single key (so image i's draws do not depend on n),
    or `key` itself when it already holds n keys. None: NVIDIA's default seed 303."""
    key = jax.random.key(DEFAULT_SEED) if key is None else key
    if not jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.wrap_key_data(key)
    if key.ndim == 0:
        return jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(n, dtype=jnp.uint32))
    if key.shape != (n,):
        raise ValueError(f"key must be one key or {n} keys (one per target), got shape {key.shape}")
    return key


def init_noise(cfg: GeneratorConfig, keys: jax.Array) -> list[jax.Array]:
    """Per-image N(0, 1) maps [N, H, W] for every noise layer (NVIDIA: randn before the first step)."""
    maps = jax.vmap(lambda k: random_noise(cfg, jax.random.fold_in(k, 0), 1))(keys)
    return [m[:, 0] for m in maps]


def _start_latents(init, w_avg: np.ndarray, n: int, k: int, cfg: GeneratorConfig) -> np.ndarray:
    """[N, k, w_dim] float32 starting latents: w_avg everywhere, or `init` checked and broadcast."""
    if init is None:
        return np.broadcast_to(np.asarray(w_avg, np.float32), (n, k, cfg.w_dim)).copy()
    a = np.asarray(init, np.float32)
    if a.ndim == 2:
        a = a[:, None]
    if a.ndim != 3 or a.shape[0] != n or a.shape[2] != cfg.w_dim or a.shape[1] not in (1, cfg.num_ws):
        raise ValueError(f"init must be [{n}, {cfg.w_dim}] or [{n}, {cfg.num_ws}, {cfg.w_dim}], got {np.shape(init)}")
    if not np.isfinite(a).all():
        raise ValueError("init contains NaN or inf")
    if k == 1:
        if not np.allclose(a, a[:, :1], atol=1e-6):
            raise ValueError('space "w" needs one w per image: init rows differ (start "w+" from it instead)')
        return a[:, :1].copy()
    return np.broadcast_to(a, (n, k, cfg.w_dim)).copy()


def _step_spec(G: Generator, config: ProjectConfig, perceptual: str, micro_batch: int = 0) -> StepSpec:
    return StepSpec(
        gcfg=G.config,
        optimize_noise=config.optimize_noise,
        perceptual=perceptual,
        vgg_layer=config.vgg_layer,
        loss_resolution=config.loss_resolution,
        beta1=config.beta1,
        beta2=config.beta2,
        adam_eps=config.adam_eps,
        micro_batch=micro_batch,
        anchor_input=config.anchor_input,
        fit_transform=config.fit_transform,
    )


def check_sg3_options(config: ProjectConfig, cfg: GeneratorConfig) -> None:
    """anchor_input / fit_transform act on StyleGAN3's Fourier-feature input: refused elsewhere."""
    used = [k for k in ("anchor_input", "fit_transform") if getattr(config, k)]
    if used and cfg.arch != "stylegan3":
        raise validate.InputError(
            f"{' and '.join(used)}: act on StyleGAN3's Fourier-feature input; this model is {cfg.arch}, which has none"
        )


def project(
    G: Generator,
    targets,
    space: str = "w",
    steps: int = 1000,
    config: ProjectConfig = ProjectConfig(),
    key: jax.Array | None = None,
    progress: bool | Callable[[int, np.ndarray], None] = False,
    lpips_params: dict | None = None,
    init=None,
) -> ProjectionResult:
    """Project targets [N, R, R, C] (float32, [-1, 1], G's resolution) into `space` ("w" or "w+").

    All N images are optimised together in one jit-compiled step, independently of each other.
    key: one key (image n uses fold_in(key, n)) or [N] keys; None = seed 303 (NVIDIA's default).
    progress: True for a tqdm bar, or a callback(step, loss [N]) called after every step.
    init: start latents instead of w_avg (NVIDIA), [N, w_dim] or [N, num_ws, w_dim] (rows equal for
    "w"), e.g. a W projection's `ws` to refine it in W+ (`project_w_then_w_plus`).
    Raises ValueError on bad targets / arguments, FloatingPointError if the loss stops being finite.
    """
    check_space(space, SPACES)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    cfg = G.config
    check_sg3_options(config, cfg)
    if config.optimize_noise and not G.noise_shapes:
        # StyleGAN3 has no noise inputs: nothing to optimise, so the noise regulariser is skipped, not faked.
        config = dataclasses.replace(config, optimize_noise=False)
    tgt = check_targets(targets, cfg)
    n = len(tgt)
    if config.perceptual != "none" and cfg.img_channels not in (1, 3):
        raise ValueError(f"perceptual losses need 1- or 3-channel images, this generator has {cfg.img_channels}")
    lp = replicate(load_lpips_params() if lpips_params is None else lpips_params)
    keys = image_keys(key, n)
    w_avg, w_std = w_stats(G, config.w_avg_samples, config.w_avg_seed)

    # Pad the batch to a multiple of the device count; padding rows repeat the last image and are dropped.
    pad = device_padding(n)
    n_pad = n + pad
    k = 1 if space == W else cfg.num_ws
    keys_p = keys
    if pad:
        extra = jax.vmap(lambda i: jax.random.fold_in(keys[-1], i))(jnp.arange(1, pad + 1, dtype=jnp.uint32))
        keys_p = jnp.concatenate([keys, extra])
    w0 = _start_latents(init, w_avg, n, k, cfg)  # NVIDIA: start at w_avg
    w0 = jnp.asarray(pad_rows(w0, pad))
    params = {"w": jnp.array(w0), "noise": init_noise(cfg, keys_p) if config.optimize_noise else []}
    if config.fit_transform:
        params["transform"] = jnp.zeros((n_pad, 3), jnp.float32)  # the identity
    mb = micro_batch_size(n_pad, cfg.resolution, config.micro_batch, jax.local_device_count())
    spec = _step_spec(G, config, config.perceptual, mb)
    spec_mse = _step_spec(G, config, "none", mb)
    state = ProjectState(params, spec.optimizer().init(params))
    state, tgt_d, keys_d = split_rows((state, pad_rows(jnp.asarray(tgt), pad), keys_p), n_pad)

    tfeats = jax.jit(target_features, static_argnames="spec")(lp, tgt_d, spec=spec)
    f32 = functools.partial(jnp.asarray, dtype=jnp.float32)
    stage2 = {"perceptual": f32(config.perceptual_weight), "mse": f32(config.mse_weight)}
    stage1 = {"perceptual": f32(0.0), "mse": f32(1.0)}  # paper 001's first stage: pixel MSE only
    reg = {"reg": f32(config.regularize_noise_weight), "transform_lr_mul": f32(config.transform_lr_mul)}

    bar = None
    if progress is True:
        from tqdm import tqdm

        bar = tqdm(total=steps, desc=f"project {n} image{'s' * (n > 1)} ({space})", unit="step")
    history = np.zeros((steps, n), np.float32)
    recorded: list[tuple[int, np.ndarray]] = []
    try:
        for i in range(steps):
            lr, noise_factor = schedule(i, steps, config)
            mse_only = i < config.mse_steps
            state, loss = project_step(
                state,
                G.variables,
                lp,
                tgt_d,
                tfeats,
                keys_d,
                jnp.asarray(i, jnp.int32),
                f32(lr),
                f32(w_std * noise_factor),
                {**(stage1 if mse_only else stage2), **reg},
                spec=spec_mse if mse_only else spec,
            )
            loss = np.asarray(loss)[:n]
            if not np.isfinite(loss).all():
                bad = np.flatnonzero(~np.isfinite(loss)).tolist()
                raise FloatingPointError(
                    f"projection loss became non-finite at step {i} for image(s) {bad} (loss {loss[bad].tolist()}); "
                    "check the targets (range [-1, 1]) and the learning rate / loss weights"
                )
            history[i] = loss
            if config.record_every and (i % config.record_every == 0 or i == steps - 1):
                recorded.append((i, np.asarray(state.params["w"])[:n]))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{float(loss.mean()):.4f}", lr=f"{lr:.4f}")
            elif callable(progress):
                progress(i, loss)
    finally:
        if bar is not None:
            bar.close()

    w = state.params["w"]
    noise = state.params["noise"]
    fitted = state.params.get("transform")
    final_spec = dataclasses.replace(spec, perceptual="lpips")
    images, d, mse = _final(G.variables, lp, w, noise, tgt_d, fitted, spec=final_spec)
    ws = np.asarray(full_ws(G.variables, w, cfg, config.anchor_input))[:n]
    w = np.asarray(w)[:n]
    if not np.isfinite(w).all():
        raise FloatingPointError("projection produced non-finite latents; lower the learning rate")
    transform = None
    if fitted is not None:
        t = np.asarray(fitted, np.float64)[:n]
        transform = np.concatenate([t[:, :2], np.rad2deg(t[:, 2:])], axis=1).astype(np.float32)
    hist_ws = None
    if recorded:
        hw = np.stack([r for _, r in recorded])  # [K, N, k, w_dim]
        hist_ws = np.stack([np.asarray(full_ws(G.variables, jnp.asarray(h), cfg, config.anchor_input)) for h in hw])
    return ProjectionResult(
        ws=ws,
        w=w[:, 0] if space == W else None,
        noise=[np.asarray(m)[:n] for m in noise] if config.optimize_noise else None,
        images=np.asarray(images)[:n],
        loss=history,
        lpips=np.asarray(d)[:n],
        mse=np.asarray(mse)[:n],
        space=space,
        history_steps=np.array([s for s, _ in recorded], np.int64) if recorded else None,
        ws_history=hist_ws,
        transform=transform,
    )


def evaluate(
    G: Generator,
    ws,
    targets,
    noise: Sequence | None = None,
    loss_resolution: int = 256,
    lpips_params: dict | None = None,
    transform=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lpips [N], mse [N], images [N, R, R, C]) of ws: [N, num_ws, w_dim] against targets.

    noise: [N, H, W] per layer (e.g. `ProjectionResult.noise`), or None for the stored maps (what
    `latentjax generate --ws` renders). LPIPS at `loss_resolution` as in `project`. transform:
    StyleGAN3's [N, 3] (translate x, y, rotate degrees: `ProjectionResult.transform`) or None.
    """
    cfg = G.config
    tgt = check_targets(targets, cfg)
    ws = np.asarray(ws, np.float32)
    if ws.shape != (len(tgt), cfg.num_ws, cfg.w_dim):
        raise ValueError(f"ws must be [{len(tgt)}, {cfg.num_ws}, {cfg.w_dim}], got {ws.shape}")
    lp = load_lpips_params() if lpips_params is None else lpips_params
    spec = StepSpec(cfg, noise is not None, "lpips", "relu3_3", loss_resolution, 0.9, 0.999, 1e-8)
    noise = [] if noise is None else [jnp.asarray(m, jnp.float32) for m in noise]
    t = None
    if transform is not None:
        t = np.asarray(transform, np.float32)
        if t.shape != (len(tgt), 3) or cfg.arch != "stylegan3":
            raise ValueError(f"transform must be [{len(tgt)}, 3] for a StyleGAN3 model, got {t.shape} ({cfg.arch})")
        t = jnp.asarray(np.concatenate([t[:, :2], np.deg2rad(t[:, 2:])], axis=1))
    images, d, mse = _final(G.variables, lp, jnp.asarray(ws), noise, jnp.asarray(tgt), t, spec=spec)
    return np.asarray(d), np.asarray(mse), np.asarray(images)
