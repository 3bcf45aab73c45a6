"""Designing a fresh StyleGAN3 synthesis network: the layer schedule (cutoffs, stop-bands,
sampling rates, sizes, widths) and the Kaiser low-pass filters of Karras et al. 2021
("Alias-Free Generative Adversarial Networks", Sections 3.2 and 4, Appendix F), as NVIDIA's
`SynthesisNetwork.__init__` lays them out.

Loaded models never need this: their filters and paddings come from the pickle. It is for
training a new StyleGAN3 (the toy `toyfaces-sg3`); a test checks that it re-derives the golden
fixture's -T config and stored filters.
"""

from __future__ import annotations

import numpy as np
import scipy.signal
import scipy.special

from latentjax.config import GeneratorConfig


def lowpass_filter(numtaps: int, cutoff: float, width: float, fs: float, radial: bool = False) -> np.ndarray | None:
    """Kaiser-windowed sinc low-pass with unit DC gain (paper App. F); None for one tap (identity).

    1-D (`scipy.signal.firwin`, separable use) -> [numtaps]; radial (the jinc of -R's rotation
    equivariant down-sampling, windowed by the outer product of the 1-D Kaiser window) ->
    [numtaps, numtaps]. cutoff, width and fs are in the same units (cycles per unit length).
    """
    if numtaps == 1:
        return None
    if not radial:
        return scipy.signal.firwin(numtaps, cutoff, width=width, fs=fs).astype(np.float32)
    x = (np.arange(numtaps) - (numtaps - 1) / 2) / fs
    r = np.hypot(*np.meshgrid(x, x))
    f = scipy.special.j1(2 * cutoff * (np.pi * r)) / (np.pi * r)
    beta = scipy.signal.kaiser_beta(scipy.signal.kaiser_atten(numtaps, width / (fs / 2)))
    w = np.kaiser(numtaps, beta)
    f = f * np.outer(w, w)
    return (f / np.sum(f)).astype(np.float32)


def design_stylegan3(
    resolution: int,
    *,
    z_dim: int,
    w_dim: int,
    channel_base: int = 32768,
    channel_max: int = 512,
    num_layers: int = 14,
    num_critical: int = 2,
    margin_size: int = 10,
    first_cutoff: float = 2.0,
    first_stopband: float = 2**2.1,
    last_stopband_rel: float = 2**0.3,
    conv_kernel: int = 3,
    filter_size: int = 6,
    lrelu_upsampling: float = 2.0,
    radial: bool = False,
    img_channels: int = 3,
    **config_kwargs,
) -> tuple[GeneratorConfig, dict[str, dict[str, np.ndarray]]]:
    """A StyleGAN3 config and its designed filters {layer name: {up_filter, down_filter}}.

    Defaults are the paper's -T config; -R is `conv_kernel=1, radial=True` with doubled
    channel_base / channel_max. Cutoffs rise geometrically from `first_cutoff` to the output's
    Nyquist over the first num_layers - num_critical layers, the last `num_critical` layers are
    critically sampled (stop-band at Nyquist); every layer's sampling rate is the smallest power
    of two >= twice its stop-band (capped at the resolution) and its canvas has `margin_size`
    extra pixels a side (Sec. 3.2; the last two layers: none). `config_kwargs` go to
    GeneratorConfig (mapping_layers, conv_clamp, name, ...).
    """
    n = num_layers
    last_cutoff = resolution / 2
    last_stopband = last_cutoff * last_stopband_rel
    exponents = np.minimum(np.arange(n + 1) / (n - num_critical), 1)
    cutoffs = first_cutoff * (last_cutoff / first_cutoff) ** exponents
    stopbands = first_stopband * (last_stopband / first_stopband) ** exponents
    rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, resolution))))
    half_widths = np.maximum(stopbands, rates / 2) - cutoffs
    sizes = rates + margin_size * 2
    sizes[-2:] = resolution
    channels = np.rint(np.minimum((channel_base / 2) / cutoffs, channel_max))
    channels[-1] = img_channels

    fields: dict[str, list] = {k: [] for k in ("up", "down", "up_taps", "down_taps", "radial", "padding", "kernel")}
    filters: dict[int, dict[str, np.ndarray]] = {}
    for i in range(n + 1):
        prev, torgb = max(i - 1, 0), i == n
        critical = i >= n - num_critical
        tmp_rate = max(rates[prev], rates[i]) * (1 if torgb else lrelu_upsampling)
        up = int(np.rint(tmp_rate / rates[prev]))
        down = int(np.rint(tmp_rate / rates[i]))
        up_taps = filter_size * up if up > 1 and not torgb else 1
        down_taps = filter_size * down if down > 1 and not torgb else 1
        down_radial = radial and not critical
        kernel = 1 if torgb else conv_kernel
        f = {
            "up_filter": lowpass_filter(up_taps, cutoffs[prev], half_widths[prev] * 2, tmp_rate),
            "down_filter": lowpass_filter(down_taps, cutoffs[i], half_widths[i] * 2, tmp_rate, down_radial),
        }
        filters[i] = {k: v for k, v in f.items() if v is not None}
        # filtered_lrelu's padding: the up-sampled, convolved input must cover the output canvas
        total = (int(sizes[i]) - 1) * down + 1 - (int(sizes[prev]) + kernel - 1) * up + up_taps + down_taps - 2
        lo = (total + up) // 2
        fields["up"].append(up)
        fields["down"].append(down)
        fields["up_taps"].append(up_taps if up_taps > 1 else 0)
        fields["down_taps"].append(down_taps if down_taps > 1 else 0)
        fields["radial"].append(down_radial)
        fields["padding"].append((lo, total - lo, lo, total - lo))
        fields["kernel"].append(kernel)
    cfg = GeneratorConfig(
        arch="stylegan3",
        resolution=resolution,
        z_dim=z_dim,
        w_dim=w_dim,
        channels=tuple(int(c) for c in channels),
        img_channels=img_channels,
        sg3_sizes=tuple(int(s) for s in sizes),
        sg3_kernels=tuple(fields["kernel"]),
        sg3_up=tuple(fields["up"]),
        sg3_down=tuple(fields["down"]),
        sg3_up_taps=tuple(fields["up_taps"]),
        sg3_down_taps=tuple(fields["down_taps"]),
        sg3_down_radial=tuple(fields["radial"]),
        sg3_padding=tuple(fields["padding"]),
        sg3_sampling_rate=float(rates[0]),
        sg3_bandwidth=float(cutoffs[0]),
        **config_kwargs,
    )
    return cfg, {cfg.sg3_layer_names[i]: f for i, f in filters.items()}


def with_filters(variables: dict, filters: dict[str, dict[str, np.ndarray]]) -> dict:
    """`variables` (of `init_variables`, whose filters are placeholders) with the designed ones."""
    syn = dict(variables["buffers"]["synthesis_network"])
    for name, f in filters.items():
        syn[name] = {**syn[name], **{k: np.asarray(v, np.float32) for k, v in f.items()}}
    return {**variables, "buffers": {**variables["buffers"], "synthesis_network": syn}}


def calibrate_magnitudes(cfg: GeneratorConfig, variables: dict, ws: np.ndarray) -> dict:
    """See `_calibrate` (jitted: layer by layer op by op is hundreds of small compiles)."""
    import jax

    return jax.jit(_calibrate, static_argnums=0)(cfg, variables, ws)


def _calibrate(cfg: GeneratorConfig, variables: dict, ws: np.ndarray) -> dict:
    """`variables` with every layer's magnitude_ema set to the mean square of its input on `ws`
    ([N, num_ws, w_dim]), layer by layer (each layer already normalised by the ones before).

    NVIDIA's training keeps magnitude_ema as a running average of that mean square (Sec. 3.2's
    "normalise the input by its magnitude"), starting from 1; a network fitted from scratch in few
    steps starts with its converged value instead and keeps it as a fixed input gain.
    """
    import jax.numpy as jnp

    from latentjax.nets import stylegan3 as sg3

    params, buffers = variables["params"]["synthesis_network"], dict(variables["buffers"]["synthesis_network"])
    ws = jnp.asarray(ws, jnp.float32)
    x = sg3.fourier_features(
        {**params["input"], **buffers["input"]},
        ws[:, 0],
        size=cfg.sg3_sizes[0],
        sampling_rate=cfg.sg3_sampling_rate,
        bandwidth=cfg.sg3_bandwidth,
    )
    names = cfg.sg3_layer_names
    for i, name in enumerate(names):
        buffers[name] = {**buffers[name], "magnitude_ema": jnp.mean(jnp.square(x)).astype(jnp.float32)}
        kw = dict(up=cfg.sg3_up[i], down=cfg.sg3_down[i], padding=cfg.sg3_padding[i], conv_clamp=cfg.conv_clamp)
        x = sg3.synthesis_layer({**params[name], **buffers[name]}, x, ws[:, i + 1], is_torgb=i == len(names) - 1, **kw)
    return {**variables, "buffers": {**variables["buffers"], "synthesis_network": buffers}}
