"""The official side of benchmarks/sg3.py. Runs ONLY in the separate torch virtualenv with NVIDIA's
stylegan3 checkout on OFFICIAL_SRC (see ../shared/bench/README.md); nothing here is imported by
latentjax, and no NVIDIA code is copied: it is imported from OFFICIAL_SRC and run.

Builds the generator of ../shared/bench/official_generate.py (torch.manual_seed(0), the released
widths: --cfg stylegan3-t or -r, z/w 512, fp32), writes it as a snapshot pickle {'G_ema': G}
(torch_utils.persistence pickling, as training_loop.py) so that latentjax times the SAME weights,
then (reps > 0) times G(z) like official_generate.py and saves the images.

  python sg3_official_side.py ARCH RES BATCH REPS OUT_PREFIX   ->  OUT_PREFIX.pkl, OUT_PREFIX.npz
Prints one JSON line: {"time_s": min over reps or null, "peak_rss_gb": ..., "threads": ...}.
"""

import json
import os
import pickle
import resource
import sys
import time

arch, res, batch, reps, prefix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
sys.path.insert(0, os.environ["OFFICIAL_SRC"])
import numpy as np  # noqa: E402
import torch  # noqa: E402
from training.networks_stylegan3 import Generator  # noqa: E402

torch.manual_seed(0)
torch.set_num_threads(os.cpu_count())
r = arch == "sg3r"
G = Generator(
    z_dim=512,
    c_dim=0,
    w_dim=512,
    img_resolution=res,
    img_channels=3,
    mapping_kwargs=dict(num_layers=2),
    channel_base=65536 if r else 32768,
    channel_max=1024 if r else 512,
    magnitude_ema_beta=0.5 ** (32 / 20000),
    conv_kernel=1 if r else 3,
    use_radial_filters=r,
    num_fp16_res=0,
    conv_clamp=None,
).eval()
z = torch.from_numpy(np.random.RandomState(0).randn(batch, 512).astype(np.float32))
best, img = None, None
if reps > 0:
    with torch.no_grad():
        img = G(z, None)  # warm-up
        for _ in range(reps):
            t = time.perf_counter()
            img = G(z, None)
            dt = time.perf_counter() - t
            best = dt if best is None else min(best, dt)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
with open(prefix + ".pkl", "wb") as f:
    pickle.dump(dict(G_ema=G), f)
np.savez(prefix + ".npz", z=z.numpy(), **({} if img is None else {"img": img.numpy()}))
print(json.dumps({"time_s": best, "peak_rss_gb": rss, "threads": torch.get_num_threads()}))
