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
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from latentjax.classifier import Classifier, ClassifierConfig, classifier_features, classifier_logits, init_classifier
from latentjax.config import GeneratorConfig
from latentjax.generator import Generator, random_noise
from latentjax.nets.generator import GeneratorNet, init_variables
from latentjax.toyfaces.factors import ATTRIBUTES, FACTORS, Z_DIM, factors_of, labels_from_factors
from latentjax.toyfaces.render import render

# Which W+ rows drive which factors under the supervised mixing (64x64: 10 rows for v2 and v1).
COARSE = ("head_yaw", "face_width", "hair_length", "beard", "eyeglasses")  # layers 0-3 (4x4, 8x8)
MIDDLE = ("smile", "mouth_open", "eye_size")  # layers 4-7 (16x16, 32x32)
FINE = ("hair_color", "grey", "skin_tone", "background_hue", "lighting")  # layers 8-9 (64x64)
FACTOR_GROUP = np.array([0 if f in COARSE else 1 if f in MIDDLE else 2 for f in FACTORS])
GROUP_FIRST_LAYER = (0, 4, 8)


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
        name=f"toyfaces-{'sg1' if arch == 'stylegan' else 'sg2'}",
    )
    return GeneratorConfig(arch=arch, **common)


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 3000
    batch: int = 32
    lr: float = 2e-3
    feature_weight: float = 1.0
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


def train_classifier(
    steps: int = 2000,
    batch: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    log: Callable[[str], None] = print,
    history: list | None = None,
) -> Classifier:
    """Fit the attribute CNN on freshly rendered faces with exact labels (BCE, Adam)."""
    cfg = ClassifierConfig(attributes=ATTRIBUTES)
    key = jax.random.key(seed)
    params = init_classifier(cfg, jax.random.fold_in(key, 0))
    opt = optax.adam(optax.cosine_decay_schedule(lr, steps, 0.05))
    opt_state = opt.init(params)

    @jax.jit
    def step(params, opt_state, i):
        k = jax.random.fold_in(key, i + 1)
        kz, ka = jax.random.split(k)
        f = factors_of(jax.random.normal(kz, (batch, Z_DIM)))
        x, y = _augment(ka, render(f)), _labels_matrix(f)

        def loss_fn(p):
            return optax.sigmoid_binary_cross_entropy(classifier_logits(p, x, cfg=cfg), y).mean()

        loss, g = jax.value_and_grad(loss_fn)(params)
        with jax.numpy_dtype_promotion("standard"):  # optax schedules mix int32 step counts and floats
            upd, opt_state = opt.update(g, opt_state, params)
        return optax.apply_updates(params, upd), opt_state, loss

    t0 = time.time()
    for i in range(steps):
        params, opt_state, loss = step(params, opt_state, i)
        if history is not None:
            history.append(float(loss))
        if (i + 1) % 200 == 0 or i == steps - 1:
            log(f"classifier step {i + 1}/{steps} loss {float(loss):.4f} ({time.time() - t0:.0f}s)")
    return Classifier(cfg, params)


def classifier_accuracy(clf: Classifier, n: int = 4096, seed: int = 12345) -> dict[str, float]:
    """Per-attribute accuracy on held-out rendered faces (latents from a separate seed)."""
    z = jax.random.normal(jax.random.key(seed), (n, Z_DIM))
    f = factors_of(z)
    p = clf.probabilities(np.asarray(render(f)))
    y = np.asarray(_labels_matrix(f)) > 0.5
    return {a: float(np.mean((p[:, i] > 0.5) == y[:, i])) for i, a in enumerate(clf.attributes)}


# ---- generators ---------------------------------------------------------------------------------


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


def generator_loss(
    variables,
    za,
    zb,
    k,
    target_images,
    noise,
    gcfg: GeneratorConfig,
    clf_params,
    clf_cfg: ClassifierConfig,
    feature_weight: float,
):
    net = GeneratorNet(gcfg)
    wa = net.apply(variables, za, method=GeneratorNet.mapping)
    wb = net.apply(variables, zb, method=GeneratorNet.mapping)
    ws = jnp.where((jnp.arange(gcfg.num_ws)[None, :] < k[:, None])[..., None], wa, wb)
    img = net.apply(variables, ws, noise, method=GeneratorNet.synthesis)
    pix = jnp.mean(jnp.square(img - target_images))
    fa = classifier_features(clf_params, img, clf_cfg)
    fb = classifier_features(clf_params, target_images, clf_cfg)
    feat = sum(jnp.mean(jnp.square(a - b)) / (jnp.mean(jnp.square(b)) + 1e-6) for a, b in zip(fa, fb))
    return pix + feature_weight * feat / len(fa), (pix, feat)


def train_generator(
    gcfg: GeneratorConfig,
    clf: Classifier,
    tc: TrainConfig,
    log: Callable[[str], None] = print,
    history: list | None = None,
    init: dict | None = None,
) -> Generator:
    """Fit G(z) to render(factors_of(z)) (+ supervised style mixing); `history` gets each step's
    loss; `init` (variables of an earlier run) continues training instead of starting fresh."""
    key = jax.random.key(tc.seed)
    variables = init if init is not None else init_variables(gcfg, jax.random.fold_in(key, 0))
    params, buffers = variables["params"], variables["buffers"]
    warmup = min(100, tc.steps // 10)
    opt = optax.adam(optax.warmup_cosine_decay_schedule(0.0, tc.lr, warmup, tc.steps, tc.lr * 0.05), b1=0.9, b2=0.99)
    opt_state = opt.init(params)
    loss_fn = functools.partial(
        generator_loss, gcfg=gcfg, clf_params=clf.params, clf_cfg=clf.config, feature_weight=tc.feature_weight
    )

    @jax.jit
    def step(params, opt_state, i):
        k = jax.random.fold_in(key, i + 1)
        kb, kn = jax.random.split(k)
        za, zb, cross, target = mixed_batch(kb, tc.batch, gcfg.num_ws, tc.mix_prob)
        noise = random_noise(gcfg, kn, tc.batch)
        (loss, (pix, feat)), g = jax.value_and_grad(
            lambda p: loss_fn({"params": p, "buffers": buffers}, za, zb, cross, render(target), noise), has_aux=True
        )(params)
        with jax.numpy_dtype_promotion("standard"):  # optax schedules mix int32 step counts and floats
            upd, opt_state = opt.update(g, opt_state, params)
        return optax.apply_updates(params, upd), opt_state, loss, pix, feat

    t0 = time.time()
    for i in range(tc.steps):
        params, opt_state, loss, pix, feat = step(params, opt_state, i)
        if history is not None:
            history.append(float(loss))
        if (i + 1) % tc.log_every == 0 or i == tc.steps - 1:
            log(
                f"{gcfg.name} step {i + 1}/{tc.steps} loss {float(loss):.4f} pix {float(pix):.4f} "
                f"feat {float(feat):.4f} ({time.time() - t0:.0f}s)"
            )
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
