"""VGG16 (torchvision `vgg16().features`, up to conv5_3) as a pure function over a params dict.

Images are NHWC in [-1, 1]. Feature names: `convB_I` (pre-activation), `reluB_I` (after ReLU),
`poolB` (after the 2x2 max-pool closing block B, B <= 4). `vgg16_features` stops after the deepest
requested layer, so a relu3_3 loss never runs blocks 4-5.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.ops.conv import conv3x3_taps

# (name, output channels) of the 13 3x3 convs, padding 1; a 2x2/2 max-pool follows conv{1..4}_last.
VGG16_CONVS: tuple[tuple[str, int], ...] = (
    ("conv1_1", 64), ("conv1_2", 64),
    ("conv2_1", 128), ("conv2_2", 128),
    ("conv3_1", 256), ("conv3_2", 256), ("conv3_3", 256),
    ("conv4_1", 512), ("conv4_2", 512), ("conv4_3", 512),
    ("conv5_1", 512), ("conv5_2", 512), ("conv5_3", 512),
)  # fmt: skip
_BLOCK_LAST = {"conv1_2": "pool1", "conv2_2": "pool2", "conv3_3": "pool3", "conv4_3": "pool4"}

# Layer names in forward order; the index orders the taps and tells how deep to run.
LAYERS: tuple[str, ...] = tuple(
    n
    for conv, _ in VGG16_CONVS
    for n in (conv, "relu" + conv.removeprefix("conv"), *([_BLOCK_LAST[conv]] if conv in _BLOCK_LAST else []))
)
_ORDER = {n: i for i, n in enumerate(LAYERS)}

# ImageNet statistics (torchvision). On [-1, 1] inputs, (x01 - mean) / std == (x - (2 mean - 1)) / (2 std):
# that is exactly LPIPS's ScalingLayer, shift [-.030, -.088, -.188], scale [.458, .448, .450].
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def imagenet_normalize(images: jax.Array) -> jax.Array:
    """[N, H, W, 3] float in [-1, 1] -> float32 (x01 - mean) / std, x01 = (x + 1) / 2."""
    x01 = (images.astype(jnp.float32) + 1.0) * 0.5
    return (x01 - jnp.asarray(IMAGENET_MEAN)) / jnp.asarray(IMAGENET_STD)


# Feature maps of at most this many pixels (the 256- and 512-channel layers of small images) are
# convolved as nine matrix products (`ops.conv3x3_taps`): the LPIPS gradient of two images on
# XLA:CPU 5.05x faster at 16^2, 1.17x at 64^2, the same program at 256^2 (benchmarks/lpips.py).
_TAPS_MAX_PIXELS = 64


def _conv3x3(x: jax.Array, p: dict) -> jax.Array:
    if x.shape[1] * x.shape[2] <= _TAPS_MAX_PIXELS:
        return conv3x3_taps(x, p["kernel"]) + p["bias"]
    y = jax.lax.conv_general_dilated(
        x, p["kernel"], (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    return y + p["bias"]


def _max_pool2(x: jax.Array) -> jax.Array:
    # torch MaxPool2d(2, 2): VALID windows, odd trailing rows/columns dropped.
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def check_images(images: jax.Array, layers: Sequence[str]) -> None:
    """Shape/dtype checks shared by the feature functions (trace-time, no cost under jit)."""
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected NHWC RGB images [N, H, W, 3], got shape {tuple(images.shape)}")
    if not jnp.issubdtype(images.dtype, jnp.floating):
        raise TypeError(f"expected float images in [-1, 1], got {images.dtype} (uint8? use x / 127.5 - 1)")
    if not layers:
        raise ValueError("no VGG16 layers requested")
    unknown = [n for n in layers if n not in _ORDER]
    if unknown:
        raise ValueError(f"unknown VGG16 layers {unknown}; known: {', '.join(LAYERS)}")
    deepest = max(_ORDER[n] for n in layers)
    pools = sum(n.startswith("pool") for n in LAYERS[: deepest + 1])
    if min(images.shape[1:3]) < 2**pools:
        raise ValueError(f"images of {images.shape[1]}x{images.shape[2]} are too small for {LAYERS[deepest]}")


def vgg16_features(
    params: dict, images: jax.Array, layers: Sequence[str] = ("relu3_3",), *, normalize: bool = True
) -> dict[str, jax.Array]:
    """VGG16 activations {layer: [N, h, w, C] float32} of `images` [N, H, W, 3].

    `layers` is static under jit; the dict comes back in `layers` order (jit returns it key-sorted).

    normalize: images are in [-1, 1] and get ImageNet normalisation (`imagenet_normalize`);
    False means they already are (LPIPS applies the identical ScalingLayer itself).
    """
    layers = (layers,) if isinstance(layers, str) else tuple(layers)
    check_images(images, layers)
    x = imagenet_normalize(images) if normalize else images.astype(jnp.float32)
    wanted, deepest = set(layers), max(_ORDER[n] for n in layers)
    out = {}
    for conv, _ in VGG16_CONVS:
        x = _conv3x3(x, params[conv])
        if conv in wanted:
            out[conv] = x
        relu = "relu" + conv.removeprefix("conv")
        x = jax.nn.relu(x)
        if relu in wanted:
            out[relu] = x
        if _ORDER[relu] >= deepest:
            break
        if conv in _BLOCK_LAST:
            x = _max_pool2(x)
            if _BLOCK_LAST[conv] in wanted:
                out[_BLOCK_LAST[conv]] = x
            if _ORDER[_BLOCK_LAST[conv]] >= deepest:
                break
    return {n: out[n] for n in layers}


def vgg_feature_distance(params: dict, x: jax.Array, y: jax.Array, layer: str = "relu3_3") -> jax.Array:
    """Per-image MSE of VGG16 `layer` features of x and y ([N, H, W, 3] in [-1, 1]) -> [N] float32.

    `layer` is static under jit (`jax.jit(vgg_feature_distance, static_argnames="layer")`).
    Default relu3_3: paper 001's "seventh block" content loss (Johnson et al.) and paper 004's
    "layer 9" (Keras VGG16 `layers[9]` = block3_conv3, ReLU included), both used for projection.
    """
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in shape: {tuple(x.shape)} vs {tuple(y.shape)}")
    check_images(x, (layer,))
    check_images(y, (layer,))
    both = jnp.concatenate([x.astype(jnp.float32), y.astype(jnp.float32)])  # one pass over [x; y]
    fx, fy = jnp.split(vgg16_features(params, both, (layer,))[layer], 2)
    return jnp.mean(jnp.square(fx - fy), axis=(1, 2, 3))
