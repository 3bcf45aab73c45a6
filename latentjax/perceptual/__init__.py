"""Perceptual distances with real ImageNet weights, offline: VGG16 features and LPIPS (vgg, v0.1).

Images are NHWC float in [-1, 1]; every function is pure, jit-able and differentiable:

>>> params = load_lpips_params()  # read once per process, float32
>>> d = lpips(params, x, y)  # [N]
>>> f = vgg16_features(params["vgg16"], x, ("relu3_3",))  # {"relu3_3": [N, H/4, W/4, 256]}
>>> mse = vgg_feature_distance(params["vgg16"], x, y, "relu3_3")  # [N]
"""

from latentjax.perceptual.lpips import LPIPS_LAYERS, LPIPS_SCALE, LPIPS_SHIFT, lpips, lpips_layers, normalize_channels
from latentjax.perceptual.vgg16 import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    LAYERS,
    VGG16_CONVS,
    imagenet_normalize,
    vgg16_features,
    vgg_feature_distance,
)
from latentjax.perceptual.weights import load_lpips_params, load_vgg16_params, lpips_weight_file, read_lpips_weights

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LAYERS",
    "LPIPS_LAYERS",
    "LPIPS_SCALE",
    "LPIPS_SHIFT",
    "VGG16_CONVS",
    "imagenet_normalize",
    "load_lpips_params",
    "load_vgg16_params",
    "lpips",
    "lpips_layers",
    "lpips_weight_file",
    "normalize_channels",
    "read_lpips_weights",
    "vgg16_features",
    "vgg_feature_distance",
]
