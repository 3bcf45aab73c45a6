"""Frozen generator configuration shared by all architectures (StyleGAN, StyleGAN2, StyleGAN3)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

ARCHS = ("stylegan", "stylegan2", "stylegan3")
_SG3_TUPLES = ("sg3_sizes", "sg3_kernels", "sg3_up", "sg3_down", "sg3_up_taps", "sg3_down_taps", "sg3_down_radial")


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything needed to build a generator; hashable, so it is a static jit argument.

    >>> cfg = GeneratorConfig(arch="stylegan2", resolution=32, z_dim=64, w_dim=64,
    ...                       channels=(64, 64, 64, 32))
    >>> cfg.num_ws, cfg.block_resolutions
    (8, (4, 8, 16, 32))
    """

    arch: str  # "stylegan" (v1, G_style), "stylegan2" (config-f "skip") or "stylegan3" (T or R)
    resolution: int
    z_dim: int
    w_dim: int
    channels: tuple[int, ...]  # v1/v2: per block 4, 8, ..., resolution; v3: per layer L0..ToRGB
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
    # StyleGAN3 only: one entry per synthesis layer L0..L{n-1}, ToRGB (as stored in the pickle;
    # the input's channels and size are those of L0). Filters themselves are buffers.
    sg3_sizes: tuple[int, ...] = ()  # output size (square) of every layer
    sg3_kernels: tuple[int, ...] = ()  # conv kernel (3 for -T, 1 for -R and ToRGB)
    sg3_up: tuple[int, ...] = ()  # up-sampling factor of filtered_lrelu
    sg3_down: tuple[int, ...] = ()
    sg3_up_taps: tuple[int, ...] = ()  # length of the stored 1-D up filter (0 = None, identity)
    sg3_down_taps: tuple[int, ...] = ()  # length of the stored down filter (0 = None)
    sg3_down_radial: tuple[bool, ...] = ()  # down filter is 2-D [taps, taps] (radial, -R)
    sg3_padding: tuple[tuple[int, int, int, int], ...] = ()  # (x0, x1, y0, y1) of filtered_lrelu
    sg3_sampling_rate: float = 0.0  # Fourier input: sampling rate and bandwidth (cutoff)
    sg3_bandwidth: float = 0.0
    sg3_output_scale: float = 0.25
    name: str = field(default="", compare=False)

    def __post_init__(self):
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if self.arch == "stylegan3":
            self._check_sg3()
            return
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

    def _check_sg3(self) -> None:
        n = len(self.channels)
        if n < 2:
            raise ValueError(f"a stylegan3 config needs >= 2 layers (incl. ToRGB), got channels {self.channels}")
        for k in _SG3_TUPLES:
            if len(getattr(self, k)) != n:
                raise ValueError(f"{k} needs one entry per layer ({n}), got {getattr(self, k)}")
        if len(self.sg3_padding) != n or any(len(p) != 4 for p in self.sg3_padding):
            raise ValueError(f"sg3_padding needs one (x0, x1, y0, y1) per layer ({n}), got {self.sg3_padding}")
        if self.channels[-1] != self.img_channels or self.sg3_sizes[-1] != self.resolution:
            raise ValueError(
                f"the last (ToRGB) layer must output {self.img_channels} channels at {self.resolution}^2, "
                f"got {self.channels[-1]} at {self.sg3_sizes[-1]}^2"
            )
        if self.sg3_sampling_rate <= 0 or self.sg3_bandwidth <= 0:
            raise ValueError("stylegan3 needs the input's sg3_sampling_rate and sg3_bandwidth (> 0)")
        ints = lambda t: tuple(int(v) for v in t)  # noqa: E731
        for k in _SG3_TUPLES:
            object.__setattr__(
                self, k, tuple(bool(v) for v in getattr(self, k)) if k == "sg3_down_radial" else ints(getattr(self, k))
            )
        object.__setattr__(self, "channels", ints(self.channels))
        object.__setattr__(self, "sg3_padding", tuple(ints(p) for p in self.sg3_padding))
        object.__setattr__(self, "sg3_sampling_rate", float(self.sg3_sampling_rate))
        object.__setattr__(self, "sg3_bandwidth", float(self.sg3_bandwidth))
        object.__setattr__(self, "sg3_output_scale", float(self.sg3_output_scale))

    @property
    def sg3_layer_names(self) -> tuple[str, ...]:
        """Official layer names L{i}_{size}_{channels} (StyleGAN3 only)."""
        return tuple(f"L{i}_{s}_{c}" for i, (s, c) in enumerate(zip(self.sg3_sizes, self.channels)))

    @property
    def log2_resolution(self) -> int:
        return self.resolution.bit_length() - 1

    @property
    def block_resolutions(self) -> tuple[int, ...]:
        return tuple(2**i for i in range(2, self.log2_resolution + 1))

    @property
    def num_ws(self) -> int:
        """Number of W+ rows: 2 per resolution from 4x4 (v1: const+conv; v2: conv+ToRGB); v3: one
        for the Fourier input and one per layer (num_layers + 2 with ToRGB)."""
        if self.arch == "stylegan3":
            return len(self.channels) + 1
        return 2 * self.log2_resolution - 2

    @property
    def noise_resolutions(self) -> tuple[int, ...]:
        """Resolution of every noise input, in the official layer order (StyleGAN3 has none)."""
        if self.arch == "stylegan3":
            return ()
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
        for k in ("channels", "fused_up", "blur_taps", "resample_taps", *_SG3_TUPLES):
            if k in d:
                d[k] = tuple(d[k])
        if "sg3_padding" in d:
            d["sg3_padding"] = tuple(tuple(p) for p in d["sg3_padding"])
        return cls(**d)
