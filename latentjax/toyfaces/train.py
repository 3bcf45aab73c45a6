"""Training the toy world's models: the attribute classifier and the two generators.

Generators are fitted by regression, not a GAN: G(z) should render the face whose factors are
`factors_of(z)` (pixel MSE + a feature loss on the classifier's stage activations, optax Adam).
Style-mixing regularisation is real but supervised: with probability `mix_prob` a sample's W+
takes layers < k from z_a and >= k from z_b (k = 4 or 8, the coarse/middle/fine crossovers of
the StyleGAN paper's Figure 3 at 64x64), and its target renders the coarse (pose/shape)
factors of the side that supplied layers 0-3, the middle ones (expression, eyes) of the side
that supplied layers 4-7 and the fine ones (colours, light) of the side that supplied 8-9.
So the coarse/fine split of Figure 3 is taught here, not discovered; the tests measure it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from latentjax.classifier import AttributeCNN, Classifier, ClassifierConfig, classifier_logits, init_classifier
from latentjax.config import GeneratorConfig
from latentjax.generator import Generator, random_noise
from latentjax.nets.network import GeneratorNet, init_variables
from latentjax.nets.stylegan3_design import calibrate_magnitudes, design_stylegan3, with_filters
from latentjax.toyfaces.factors import (
    ATTRIBUTES,
    FACTOR_SPECS,
    FACTORS,
    MODEL_TAG,
    Z_DIM,
    attribute_factor,
    attribute_threshold,
    factors_of,
    labels_from_factors,
)
from latentjax.toyfaces.fidelity import factor_change
from latentjax.toyfaces.render import render

# Which W+ rows drive which factors under the supervised mixing (64x64: 10 rows for v2 and v1).
COARSE = ("head_yaw", "face_width", "hair_length", "beard", "eyeglasses")  # layers 0-3 (4x4, 8x8)
MIDDLE = ("smile", "mouth_open", "eye_size")  # layers 4-7 (16x16, 32x32)
FINE = ("hair_color", "grey", "skin_tone", "background_hue", "lighting")  # layers 8-9 (64x64)
FACTOR_GROUP = np.array([0 if f in COARSE else 1 if f in MIDDLE else 2 for f in FACTORS])
GROUP_FIRST_LAYER = (0, 4, 8)


TOY_NAMES = {"stylegan": "sg1", "stylegan2": "sg2", "stylegan3": "sg3"}
# toyfaces-sg3: StyleGAN3-T with 8 layers + ToRGB, so that it has the 10 W+ rows of the others
# (row 0 drives the Fourier input). Widths channel_base / (2 cutoff) capped at 64 (64..16) and a
# 4-pixel margin instead of the paper's 10: with 128 channels on the 36^2 canvases one batch-32
# step took 90 s on the shared 2 cores. -T, not -R: -R's radial down filters are 2-D (12x12 taps
# instead of 2x12) and its widths doubled, several times the CPU cost again.
TOY_SG3 = dict(channel_base=1024, channel_max=64, num_layers=8, num_critical=2, margin_size=4)


def toy_config(arch: str) -> GeneratorConfig:
    """The shipped toy generators: 64x64, z 64, w 128, channels 128..16 (same modules as full size).

    mapping_lr_mul is 1.0 instead of StyleGAN's 0.01: Adam moves a stored weight by ~lr per step
    whatever its scale, so with 0.01 (stored weights ~N(0, 100)) a few thousand regression steps
    barely change the mapping and G collapses to the mean face (seen with 0.1: 64-77% accuracy).
    """
    common = dict(
        resolution=64,
        z_dim=Z_DIM,
        w_dim=128,
        channels=(128, 128, 64, 32, 16),
        mapping_layers=8,
        mapping_fmaps=128,
        mapping_lr_mul=1.0,
        name=f"{MODEL_TAG}-{TOY_NAMES[arch]}",  # the tag metrics read (is_toy_model)
    )
    if arch == "stylegan3":
        common.pop("channels")
        return design_stylegan3(common.pop("resolution"), **common, **TOY_SG3)[0]
    return GeneratorConfig(arch=arch, **common)


def toy_variables(gcfg: GeneratorConfig, key: jax.Array) -> dict:
    """Fresh variables for training; StyleGAN3 gets its designed filters and magnitude_ema
    calibrated on 64 fresh z (see `calibrate_magnitudes`)."""
    variables = init_variables(gcfg, key)
    if gcfg.arch != "stylegan3":
        return variables
    kw = {k: getattr(gcfg, k) for k in ("z_dim", "w_dim", "mapping_layers", "mapping_fmaps", "mapping_lr_mul")}
    cfg, filters = design_stylegan3(gcfg.resolution, **kw, **TOY_SG3)
    assert cfg == gcfg, "toy_variables designs the filters of toy_config('stylegan3') only"
    variables = with_filters(variables, filters)
    z = jax.random.normal(jax.random.fold_in(key, 1), (64, Z_DIM))
    ws = GeneratorNet(gcfg).apply(variables, z, method=GeneratorNet.mapping)
    return calibrate_magnitudes(gcfg, variables, ws)


@dataclass(frozen=True)
class TrainConfig:
    """Generator training (see `train_generator` for the three phases)."""

    steps: int = 1500  # phase 1: synthesis + factor encoder, batches of `batch`
    map_steps: int = 10000  # phase 2: mapping distillation, batches of `map_batch` latents
    tune_steps: int = 500  # phase 3: end to end
    batch: int = 32
    map_batch: int = 512
    lr: float = 3e-2  # 10x StyleGAN's GAN rate: regression is stable there and learns ~3x faster
    map_lr: float = 0.1  # the 8-layer MLP distils slowly: rel. W error 0.40 at 1e-3 / 3k steps, 0.05 here
    tune_lr: float = 5e-3
    feature_weight: float = 1.0
    # Pixel weights 1 + detail_weight * `detail_map` (the pixels the expression factors move).
    # 0 = plain MSE, which leaves the eyes a blur: fine-tuning the earlier (plain-MSE) sg2 for 300
    # steps took big_eyes 67% -> 90% with 1.0 (67% without, 85% with an edge-magnitude weight), n 512.
    detail_weight: float = 1.0
    # BCE of the teacher's heads on G's images. Off: G learns to fool the teacher (95-100% by the
    # teacher, 58-96% by an independent classifier on the same images) instead of drawing details.
    attribute_weight: float = 0.0
    mix_prob: float = 0.3
    seed: int = 0
    log_every: int = 200


# ---- classifier ---------------------------------------------------------------------------------


def _augment(key, images):
    """Mild blur + noise so the classifier also reads slightly soft generated faces."""
    k1, k2, k3 = jax.random.split(key, 3)
    n = images.shape[0]
    blurred = (
        images + jnp.roll(images, 1, 1) + jnp.roll(images, -1, 1) + jnp.roll(images, 1, 2) + jnp.roll(images, -1, 2)
    ) / 5.0
    a = jax.random.uniform(k1, (n, 1, 1, 1), maxval=0.7)
    sigma = jax.random.uniform(k2, (n, 1, 1, 1), maxval=0.06)
    return (1 - a) * images + a * blurred + sigma * jax.random.normal(k3, images.shape)


def _labels_matrix(factors: jax.Array) -> jax.Array:
    lab = labels_from_factors(factors)
    return jnp.stack([lab[a] for a in ATTRIBUTES], axis=1).astype(jnp.float32)


def focus_vector(focus: tuple[tuple[str, float], ...]) -> jax.Array:
    """(attribute, weight) pairs -> [A] weights in the order of ATTRIBUTES (0 for the others)."""
    w = np.zeros(len(ATTRIBUTES), np.float32)
    for attr, weight in focus:
        attribute_factor(attr)  # KeyError naming the known attributes
        w[ATTRIBUTES.index(attr)] += weight
    return jnp.asarray(w)


def near_threshold_weights(factors: jax.Array, focus, band: float = 0.03) -> jax.Array:
    """factors [N, F] -> [N] sampling weights sum_a w_a exp(-|f_a - threshold_a| / (band * range_a)).

    `focus`: (attribute, weight) pairs or their `focus_vector` [A]; range_a is the factor's span (2
    for signed factors), so `band` is a fraction of it. Faces near an attribute's boundary weigh most.
    """
    w = focus_vector(focus) if isinstance(focus, tuple) else focus
    total = jnp.zeros(factors.shape[:1], jnp.float32)
    for i, attr in enumerate(ATTRIBUTES):
        spec = FACTOR_SPECS[attribute_factor(attr)]
        d = jnp.abs(factors[:, attribute_factor(attr)] - attribute_threshold(attr)) / (spec.hi - spec.lo)
        total = total + w[i] * jnp.exp(-d / band)
    return total


def _focused_latents(key, batch: int, n_focus: int, focus, pool: int = 8) -> jax.Array:
    """[batch, Z_DIM]: batch - n_focus plain N(0, I) latents, then n_focus drawn without replacement
    from a pool of pool * n_focus by `near_threshold_weights` (Gumbel top-k). Labels stay exact; both
    sides of each boundary are drawn alike, so the decision threshold is not biased."""
    kz, kp, kg = jax.random.split(key, 3)
    z = jax.random.normal(kz, (batch - n_focus, Z_DIM))
    if n_focus == 0:
        return z
    zp = jax.random.normal(kp, (pool * n_focus, Z_DIM))
    logw = jnp.log(near_threshold_weights(factors_of(zp), focus) + 1e-12)
    _, idx = jax.lax.top_k(logw + jax.random.gumbel(kg, logw.shape), n_focus)
    return jnp.concatenate([z, zp[idx]])


# Adam without its learning rate: the cosine schedule's value comes in as data, so every stage and
# seed of the same batch shape runs one compiled step (the training script's five classifier runs
# compiled five times before).
_ADAM = optax.scale_by_adam()


def _adam_update(adam, grads, opt_state, params, lr):
    """params - lr * Adam direction (lr a traced f32 scalar) -> (params, opt_state)."""
    with jax.numpy_dtype_promotion("standard"):  # Adam's bias correction mixes int32 counts and floats
        upd, opt_state = adam.update(grads, opt_state, params)
    return jax.tree_util.tree_map(lambda p, u: p - lr * u, params, upd), opt_state


@functools.partial(jax.jit, static_argnames=("cfg", "batch", "n_focus"))
def _classifier_step(params, opt_state, key, i, lr, clean_frac, focus_w, *, cfg, batch: int, n_focus: int):
    """One BCE step on `batch` fresh renders; lr, clean_frac: f32 scalars, focus_w: [A] (see train_classifier)."""
    k = jax.random.fold_in(key, i + 1)
    kz, ka, kc = jax.random.split(k, 3)  # partitionable threefry: kz, ka as split(k) gave (the teacher reproduces)
    f = factors_of(_focused_latents(kz, batch, n_focus, focus_w) if n_focus else jax.random.normal(kz, (batch, Z_DIM)))
    images = render(f)
    clean = jax.random.uniform(kc, (batch, 1, 1, 1)) < clean_frac
    x, y = jnp.where(clean, images, _augment(ka, images)), _labels_matrix(f)

    def loss_fn(p):
        return optax.sigmoid_binary_cross_entropy(classifier_logits(p, x, cfg=cfg), y).mean()

    loss, g = jax.value_and_grad(loss_fn)(params)
    return *_adam_update(_ADAM, g, opt_state, params, lr), loss


def train_classifier(
    steps: int = 2000,
    batch: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    log: Callable[[str], None] = print,
    history: list | None = None,
    init: Classifier | None = None,
    clean_frac: float = 0.0,
    focus: tuple[tuple[str, float], ...] = (),
    focus_frac: float = 0.0,
) -> Classifier:
    """Fit the attribute CNN on freshly rendered faces with exact labels (BCE, Adam, cosine decay).

    `init`: continue from this classifier's parameters (same config) instead of a fresh init.
    `clean_frac`: the fraction of each batch (drawn per sample) shown without `_augment`. Near an
    attribute's threshold the cue is sub-pixel (eye_size +-0.02 moves the eye's vertical radius by
    0.04 px, face_width +-0.02 the face's by 0.13 px), a change of a few hundredths in a few edge
    pixels that the augmentation's noise (sigma up to 0.06) buries; clean samples teach it.
    `focus`, `focus_frac`: that fraction of each batch is drawn near the boundaries of the
    `focus` attributes (`_focused_latents`), where N(0, I) latents seldom fall.
    """
    if not 0.0 <= clean_frac <= 1.0:
        raise ValueError(f"clean_frac must be in [0, 1], got {clean_frac}")
    if not 0.0 <= focus_frac <= 1.0 or (focus_frac and not focus):
        raise ValueError(f"focus_frac must be in [0, 1] and needs focus attributes, got {focus_frac}, {focus}")
    focus_w = focus_vector(focus)
    n_focus = round(batch * focus_frac)
    cfg = ClassifierConfig(attributes=ATTRIBUTES) if init is None else init.config
    key = jax.random.key(seed)
    params = init_classifier(cfg, jax.random.fold_in(key, 0)) if init is None else init.params
    opt_state = _ADAM.init(params)
    with jax.numpy_dtype_promotion("standard"):  # optax schedules mix int32 step counts and floats
        lrs = np.asarray(optax.cosine_decay_schedule(lr, steps, 0.05)(jnp.arange(steps)), np.float32)
    step = functools.partial(_classifier_step, cfg=cfg, batch=batch, n_focus=n_focus)

    t0 = time.time()
    for i in range(steps):
        params, opt_state, loss = step(params, opt_state, key, i, lrs[i], np.float32(clean_frac), focus_w)
        if history is not None:
            history.append(float(loss))
        if (i + 1) % 200 == 0 or i == steps - 1:
            log(f"classifier step {i + 1}/{steps} loss {float(loss):.4f} ({time.time() - t0:.0f}s)")
    return Classifier(cfg, params)


CLF_TUNE = {"steps": 1500, "lr": 3e-4, "clean_frac": 0.5, "seed": 7}
"""Stage 2 of the shipped classifier: `train_classifier(init=stage_1, **CLF_TUNE)` (seed offset by
the run's seed), after stage 1 = 1500 augmented steps at lr 1e-3. Held-out accuracy (n 4096, seed
12345) stage 1 -> 500 / 1500 steps of stage 2: big_eyes 0.974 -> 0.987 / 0.987, mouth_open 0.976 ->
0.983 / 0.984, wide_face 0.972 -> 0.977 / 0.976 (it plateaus: its errors are not only at the
threshold, 1.1% of faces with |face_width - 0.5| > 0.02 are misread, 1.7% of those with short hair,
whose face edge meets the hair cap instead of the backdrop)."""


_FOCUS_STAGE = {"steps": 500, "lr": 1e-4, "clean_frac": 0.5, "focus_frac": 0.5}
CLF_FOCUS = (
    {**_FOCUS_STAGE, "focus": (("wide_face", 3.0), ("big_eyes", 1.0), ("mouth_open", 1.0), ("smiling", 1.0),
                               ("lit_from_right", 1.0)), "seed": 11},
    {**_FOCUS_STAGE, "focus": (("wide_face", 6.0), ("big_eyes", 1.0), ("mouth_open", 1.0)), "seed": 12},
)  # fmt: skip
"""Stage 3 of the shipped classifier, two runs of `train_classifier(init=previous, **stage)` after stage
2: half of each batch is drawn near the boundaries of the attributes it read worst
(`_focused_latents`), where its errors are (stage 2, n 16384: wide_face misread 33% of the faces
within 0.02 of its threshold, 0.85% of the others). Held-out wide_face: stage 2 0.978 (n 16384,
seed 12345); on 3 x 16384 faces (seeds 12345, 4242, 777777) 0.9797 after the first run, 0.9803 (sd
0.0006) after the second: at the bar, not clearly above it; every other attribute >= 0.984."""


def classifier_accuracy(clf: Classifier, n: int = 4096, seed: int = 12345) -> dict[str, float]:
    """Per-attribute accuracy on held-out rendered faces (latents from a separate seed)."""
    z = jax.random.normal(jax.random.key(seed), (n, Z_DIM))
    f = factors_of(z)
    p = np.concatenate([clf.probabilities(np.asarray(render(f[i : i + 2048]))) for i in range(0, n, 2048)])
    y = np.asarray(_labels_matrix(f)) > 0.5
    return {a: float(np.mean((p[:, i] > 0.5) == y[:, i])) for i, a in enumerate(clf.attributes)}


# ---- generators ---------------------------------------------------------------------------------


class FactorEncoder(nn.Module):
    """Training scaffold for phase 1: factors [N, F] -> w [N, w_dim] (3 hidden leaky-ReLU layers).

    Not part of the generator: phase 2 distils it into the mapping network, then it is dropped.
    """

    w_dim: int
    hidden: int = 128

    @nn.compact
    def __call__(self, f: jax.Array) -> jax.Array:
        x = 3.0 * (f - 0.5)  # factors live in [-1, 1] or [0, 1]: roughly centre and scale them
        for i in range(3):
            x = nn.leaky_relu(nn.Dense(self.hidden, name=f"fc{i}")(x), 0.2)
        return nn.Dense(self.w_dim, name="out")(x)


def mixed_batch(key, batch: int, num_ws: int, mix_prob: float):
    """z_a, z_b [B, Z], per-sample crossover layer k [B] (num_ws = no mixing) and target factors."""
    ka, kb, km, kk = jax.random.split(key, 4)
    za, zb = jax.random.normal(ka, (batch, Z_DIM)), jax.random.normal(kb, (batch, Z_DIM))
    k = jnp.where(
        jax.random.bernoulli(km, mix_prob, (batch,)), jnp.where(jax.random.bernoulli(kk, 0.5, (batch,)), 4, 8), num_ws
    )
    first = jnp.asarray(GROUP_FIRST_LAYER)[jnp.asarray(FACTOR_GROUP)]  # [F] first layer of each group
    from_a = first[None, :] < k[:, None]  # [B, F]
    target = jnp.where(from_a, factors_of(za), factors_of(zb))
    return za, zb, k, target


def mix_rows(wa: jax.Array, wb: jax.Array, k: jax.Array, num_ws: int) -> jax.Array:
    """wa, wb: [B, w_dim], k: [B] -> ws [B, num_ws, w_dim] with rows < k from wa, the rest from wb."""
    return jnp.where((jnp.arange(num_ws)[None, :] < k[:, None])[..., None], wa[:, None], wb[:, None])


def detail_map(factors: jax.Array, images: jax.Array, delta: float = 0.25) -> jax.Array:
    """Where the small features are: s / mean(s) [N, H, W, 1] (mean 1 over the batch), s = sum over
    the MIDDLE (expression) factors of |render(f +- delta * e_k) - images| summed over channels.
    factors: [N, F]; images = render(factors): [N, H, W, 3].

    Eyes and mouth are a few pixels wide at 64x64 (eye radius 1.9-4.3 px), so under plain MSE a
    blur costs G almost nothing; weighting the pixels these factors move makes it draw them.
    """
    s = sum(factor_change(factors, images, name, delta) for name in MIDDLE)[..., None]
    return s / (jnp.mean(s) + 1e-8)


def image_loss(img, target_factors, teacher_params, teacher_cfg: ClassifierConfig, tc: TrainConfig):
    """Detail-weighted pixel MSE + feature matching on the teacher CNN's stages + the teacher's
    attribute BCE (off by default, see `TrainConfig.attribute_weight`)."""
    target_images = render(target_factors)
    err = jnp.square(img - target_images)
    if tc.detail_weight:
        err = err * (1.0 + tc.detail_weight * detail_map(target_factors, target_images))
    pix = jnp.mean(err)
    cnn = AttributeCNN(teacher_cfg)
    logits, fa = cnn.apply({"params": teacher_params}, img)
    _, fb = cnn.apply({"params": teacher_params}, target_images)
    feat = sum(jnp.mean(jnp.square(a - b)) / (jnp.mean(jnp.square(b)) + 1e-6) for a, b in zip(fa, fb)) / len(fa)
    attr = optax.sigmoid_binary_cross_entropy(logits, _labels_matrix(target_factors)).mean()
    return pix + tc.feature_weight * feat + tc.attribute_weight * attr, (pix, feat, attr)


def _schedule(lr: float, steps: int) -> np.ndarray:
    """[steps] f32 learning rates: 100-step (or 10%) warm-up, cosine decay to 5%."""
    warmup = min(100, steps // 10)
    with jax.numpy_dtype_promotion("standard"):  # optax schedules mix int32 step counts and floats
        fn = optax.warmup_cosine_decay_schedule(0.0, lr, warmup, max(steps, 1), lr * 0.05)
        return np.asarray(fn(jnp.arange(steps)), np.float32)


def _run(name, step, state, steps: int, log, history, every: int):
    t0 = time.time()
    for i in range(steps):
        state, metrics = step(state, i)
        if history is not None:
            history.append(float(metrics["loss"]))
        if (i + 1) % every == 0 or i == steps - 1:
            msg = " ".join(f"{k} {float(v):.4f}" for k, v in metrics.items())
            log(f"{name} step {i + 1}/{steps} {msg} ({time.time() - t0:.0f}s)")
    return state


def _batch_of(k, gcfg: GeneratorConfig, tc: TrainConfig):
    kb, kn = jax.random.split(k)
    return (*mixed_batch(kb, tc.batch, gcfg.num_ws, tc.mix_prob), random_noise(gcfg, kn, tc.batch))


def _phase_loss(phase: int, p, k, fixed: dict, *, gcfg: GeneratorConfig, tc: TrainConfig, teacher_cfg):
    """The loss of `train_generator`'s phase 1, 2 or 3 on one batch drawn from key k.

    fixed: what the phase reads but does not train: 'buffers' (the generator's), 'teacher' (the
    loss network's params), 'encoder' (phase 1's factor encoder, in phase 2), 'generator' (the
    synthesis params, in phase 2), 'w_var' (phase 2's normaliser).
    """
    net, enc = GeneratorNet(gcfg), FactorEncoder(gcfg.w_dim)

    def synth(g, ws, noise):
        return net.apply({"params": g, "buffers": fixed["buffers"]}, ws, noise, method=GeneratorNet.synthesis)

    def mapping(g, z):
        return net.apply({"params": g, "buffers": fixed["buffers"]}, z, method=GeneratorNet.mapping)[:, 0]

    if phase == 2:  # distil the encoder into the mapping network (MLP-only steps: cheap)
        z = jax.random.normal(k, (tc.map_batch, Z_DIM))
        w_target = enc.apply({"params": fixed["encoder"]}, factors_of(z))
        err = jnp.mean(jnp.square(mapping({**fixed["generator"], "mapping_network": p}, z) - w_target))
        return err / fixed["w_var"], {}
    za, zb, cross, target, noise = _batch_of(k, gcfg, tc)
    if phase == 1:  # synthesis network + factor encoder
        e = functools.partial(enc.apply, {"params": p["encoder"]})
        ws, g = mix_rows(e(factors_of(za)), e(factors_of(zb)), cross, gcfg.num_ws), p["generator"]
    else:  # end to end
        ws, g = mix_rows(mapping(p, za), mapping(p, zb), cross, gcfg.num_ws), p
    loss, (pix, feat, attr) = image_loss(synth(g, ws, noise), target, fixed["teacher"], teacher_cfg, tc)
    return loss, {"pix": pix, "feat": feat, "attr": attr}


_ADAM_G = optax.scale_by_adam(b1=0.9, b2=0.99)
# The TrainConfig fields each phase's step reads. The step gets a config with these and defaults
# elsewhere (lr and the step index arrive as data): runs that differ only in length, rates, seed or
# logging (a resumed run, the tests' short runs) share one compiled step per phase, and a field the
# step reads but this list lacks reads as its default, which a test of that field sees.
_STEP_READS = {2: ("map_batch",)}
_STEP_READS[1] = _STEP_READS[3] = ("batch", "mix_prob", "feature_weight", "detail_weight", "attribute_weight")


def _step_config(tc: TrainConfig, phase: int) -> TrainConfig:
    return replace(TrainConfig(), **{f: getattr(tc, f) for f in _STEP_READS[phase]})


@functools.partial(jax.jit, static_argnames=("phase", "gcfg", "tc", "teacher_cfg"))
def _phase_step(state, key, i, lr, fixed, *, phase: int, gcfg, tc, teacher_cfg):
    """One Adam step of a phase. Module-level with everything per-run passed as data and `tc` cut to
    `_step_config`, so any later run in the process with the same batch shapes and loss weights (the
    determinism test, a resumed run, another seed) reuses the compiled step."""
    p, opt_state = state
    loss_fn = functools.partial(_phase_loss, phase, fixed=fixed, gcfg=gcfg, tc=tc, teacher_cfg=teacher_cfg)
    (loss, aux), g = jax.value_and_grad(loss_fn, has_aux=True)(p, jax.random.fold_in(key, phase * 10**7 + i))
    return _adam_update(_ADAM_G, g, opt_state, p, lr), {"loss": loss, **aux}


def train_generator(
    gcfg: GeneratorConfig,
    teacher: Classifier,
    tc: TrainConfig,
    log: Callable[[str], None] = print,
    history: list | None = None,
    init: dict | None = None,
) -> Generator:
    """Fit G(z) to render(factors_of(z)) with supervised style mixing, in three phases.

    1. Synthesis + `FactorEncoder` (`tc.steps`): ws = E(factors), so the synthesis network learns
       to draw faces without first having to untangle z (fitting end to end from the start leaves
       G at the mean face for thousands of steps: the mapping's job, z -> factors, is the slow part).
    2. Mapping distillation (`tc.map_steps`, batches of `tc.map_batch` latents, no synthesis):
       mapping(z) regresses E(factors_of(z)), the relative squared error in W.
    3. End to end (`tc.tune_steps`): all parameters, the image loss of G(z) itself.
    `history` gets every step's loss (all phases); `init` (variables of an earlier run) skips
    phases 1-2 and continues end-to-end training.
    """
    key = jax.random.key(tc.seed)
    variables = init if init is not None else toy_variables(gcfg, jax.random.fold_in(key, 0))
    params, buffers = variables["params"], variables["buffers"]
    enc = FactorEncoder(gcfg.w_dim)
    fixed = {"buffers": buffers, "teacher": teacher.params}

    def fit(phase: int, label: str, p, lr: float, steps: int, fixed: dict):
        """Adam on the phase's loss for `steps` steps; each phase draws its own keys."""
        lrs = _schedule(lr, steps)
        step = functools.partial(
            _phase_step, phase=phase, gcfg=gcfg, tc=_step_config(tc, phase), teacher_cfg=teacher.config
        )
        name = f"{gcfg.name} [{phase}/3 {label}]"
        state = (p, _ADAM_G.init(p))
        return _run(name, lambda st, i: step(st, key, i, lrs[i], fixed), state, steps, log, history, tc.log_every)[0]

    if init is None:
        p1 = {"generator": params, "encoder": enc.init(jax.random.fold_in(key, 1), jnp.zeros((1, len(FACTORS))))}
        p1["encoder"] = p1["encoder"]["params"]
        p1 = fit(1, "synthesis", p1, tc.lr, tc.steps, fixed)
        params, enc_params = p1["generator"], p1["encoder"]

        ref = enc.apply(
            {"params": enc_params}, factors_of(jax.random.normal(jax.random.fold_in(key, 2), (4096, Z_DIM)))
        )
        fixed2 = {**fixed, "encoder": enc_params, "generator": params, "w_var": jnp.mean(jnp.var(ref, axis=0))}
        mp = fit(2, "mapping", params["mapping_network"], tc.map_lr, tc.map_steps, fixed2)
        params = {**params, "mapping_network": mp}

    params = fit(3, "end to end", params, tc.tune_lr, tc.tune_steps, fixed)

    # w_avg: the converged value of NVIDIA's running average, computed directly
    G = Generator(gcfg, {"params": params, "buffers": buffers})
    z = jax.random.normal(jax.random.fold_in(key, 10**6), (8192, Z_DIM))
    w_avg = jnp.mean(G.mapping(z)[:, 0], axis=0)
    buffers = {**buffers, "mapping_network": {"w_avg": w_avg}}
    return Generator(gcfg, {"params": params, "buffers": buffers})


def generator_report(G: Generator, clf: Classifier, n: int = 1024, seed: int = 777) -> dict:
    """Per-attribute classifier accuracy on G(z) vs labels_of(z), and mean |pixel error| vs render."""
    z = np.asarray(jax.random.normal(jax.random.key(seed), (n, Z_DIM)))
    f = factors_of(z)
    y = np.asarray(_labels_matrix(f)) > 0.5
    imgs = np.concatenate([np.asarray(G(z[i : i + 256], noise_mode="const")) for i in range(0, n, 256)])
    p = clf.probabilities(imgs)
    acc = {a: float(np.mean((p[:, i] > 0.5) == y[:, i])) for i, a in enumerate(clf.attributes)}
    err = float(np.mean(np.abs(imgs - np.asarray(render(f)))))
    return {"accuracy": acc, "mean_abs_pixel_error": err, "n": n}
