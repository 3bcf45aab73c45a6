"""Frozen generator configuration shared by both architectures."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

ARCHS = ("stylegan", "stylegan2")


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything needed to build a generator; hashable, so it is a static jit argument.

    >>> cfg = GeneratorConfig(arch="stylegan2", resolution=32, z_dim=64, w_dim=64,
    ...                       channels=(64, 64, 64, 32))
    >>> cfg.num_ws, cfg.block_resolutions
    (8, (4, 8, 16, 32))
    """

    arch: str  # "stylegan" (v1, G_style) or "stylegan2" (config-f "skip")
    resolution: int
    z_dim: int
    w_dim: int
    channels: tuple[int, ...]  # feature maps of the block at 4, 8, ..., resolution
    img_channels: int = 3
    mapping_layers: int = 8
    mapping_fmaps: int = 512
    mapping_lr_mul: float = 0.01
    normalize_latents: bool = True
    # StyleGAN (v1) only
    fused_up: tuple[bool, ...] = ()  # per block 8..resolution: transposed-conv up-sampling
    blur_taps: tuple[float, ...] = (1.0, 2.0, 1.0)
    # StyleGAN2 only
    resample_taps: tuple[float, ...] = (1.0, 3.0, 3.0, 1.0)
    conv_clamp: float | None = None  # StyleGAN2-ADA clamps activations (None in TF pickles)
    name: str = field(default="", compare=False)

    def __post_init__(self):
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        log2 = self.resolution.bit_length() - 1
        if self.resolution < 4 or 2**log2 != self.resolution:
            raise ValueError(f"resolution must be a power of two >= 4, got {self.resolution}")
        if len(self.channels) != log2 - 1:
            raise ValueError(f"need {log2 - 1} channel counts (4..{self.resolution}), got {self.channels}")
        if self.arch == "stylegan" and len(self.fused_up) not in (0, log2 - 2):
            raise ValueError(f"fused_up needs one flag per block 8..{self.resolution}")
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        object.__setattr__(self, "fused_up", tuple(bool(f) for f in self.fused_up) or (False,) * (log2 - 2))
        object.__setattr__(self, "blur_taps", tuple(float(t) for t in self.blur_taps))
        object.__setattr__(self, "resample_taps", tuple(float(t) for t in self.resample_taps))

    @property
    def log2_resolution(self) -> int:
        return self.resolution.bit_length() - 1

    @property
    def block_resolutions(self) -> tuple[int, ...]:
        return tuple(2**i for i in range(2, self.log2_resolution + 1))

    @property
    def num_ws(self) -> int:
        """Number of W+ rows: 2 per resolution from 4x4 (v1: const+conv; v2: conv+ToRGB)."""
        return 2 * self.log2_resolution - 2

    @property
    def noise_resolutions(self) -> tuple[int, ...]:
        """Resolution of every noise input, in the official layer order."""
        if self.arch == "stylegan":
            return tuple(2 ** (i // 2 + 2) for i in range(self.num_ws))
        return tuple(2 ** ((i + 5) // 2) for i in range(self.num_ws - 1))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, d: dict) -> GeneratorConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown generator config keys: {sorted(unknown)}")
        d = dict(d)
        for k in ("channels", "fused_up", "blur_taps", "resample_taps"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)
