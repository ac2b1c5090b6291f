"""Record mmcv 1.7.2's ``CornerPool`` forward and backward (run with /tmp/mmfull/bin/python).

Writes ``corner_pool.npz``: ``x`` (``[2, 3, 5, 6]``, rounded so that ties occur), the upstream
gradient ``w`` and, per mode, ``out_<mode>`` and ``grad_<mode>`` = d(sum(out * w)) / dx.
"""

from pathlib import Path

import numpy as np
import torch
from mmcv.ops import CornerPool

rng = np.random.default_rng(0)
x = np.round(rng.normal(size=(2, 3, 5, 6)) * 2).astype(np.float32) / 2
w = rng.normal(size=x.shape).astype(np.float32)
arrays = {"x": x, "w": w}
for mode in ("top", "bottom", "left", "right"):
    inp = torch.tensor(x, requires_grad=True)
    out = CornerPool(mode)(inp)
    (out * torch.tensor(w)).sum().backward()
    arrays[f"out_{mode}"] = out.detach().numpy()
    arrays[f"grad_{mode}"] = inp.grad.numpy()
np.savez_compressed(Path(__file__).with_name("corner_pool.npz"), **arrays)
