"""Record mmcv 1.7.2's compiled ``DeformConv2d`` / ``deform_conv2d`` on seeded inputs.

Run with the side venv (``/tmp/mmfull/bin/python``)::

    /tmp/mmfull/bin/python tests/data/mmdet_reference_gfl_tood_vfnet/make_deform_conv.py

Writes ``deform_conv.npz``: per case ``<case>/{x,offset,weight,grad_out}`` (inputs, drawn from
``np.random.RandomState(CASE_SEED)``), ``<case>/out`` and ``<case>/grad_{x,offset,weight}``
(the gradients of ``sum(out * grad_out)``), float32 on CPU.
``tests/models/layers/test_deform_conv.py`` compares detbox's layer with them (1e-5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CASE_SEED = 7
# name: (x shape, out channels, kernel, stride, padding, dilation, groups, deform_groups,
#        offset scale); "tood" is TOOD's depthwise 1x1 sampling with unit weights
CASES = {
    "groups": ((2, 4, 7, 9), 6, 3, 2, 1, 1, 2, 2, 2.0),
    "dilation": ((1, 3, 8, 8), 4, 3, 1, 2, 2, 1, 1, 1.5),
    "small_input": ((1, 3, 2, 2), 4, 3, 1, 1, 1, 1, 1, 1.0),
    "tood": ((2, 4, 5, 6), 4, 1, 1, 0, 1, 4, 4, 3.0),
}


def inputs(rng, x_shape, out_channels, kernel, stride, padding, dilation, groups,
           deform_groups, scale):
    n, c, h, w = x_shape
    ho = (h + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    wo = (w + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    x = rng.standard_normal(x_shape).astype(np.float32)
    offset = (scale * rng.standard_normal((n, 2 * deform_groups * kernel * kernel, ho, wo))
              ).astype(np.float32)
    weight = rng.standard_normal((out_channels, c // groups, kernel, kernel)).astype(np.float32)
    grad_out = rng.standard_normal((n, out_channels, ho, wo)).astype(np.float32)
    return x, offset, weight, grad_out


def main():
    import torch
    from mmcv.ops import DeformConv2d, deform_conv2d

    rng = np.random.RandomState(CASE_SEED)
    out = {}
    for name, (x_shape, oc, k, s, p, d, g, dg, scale) in CASES.items():
        arrays = inputs(rng, x_shape, oc, k, s, p, d, g, dg, scale)
        x, offset, weight, grad_out = (torch.from_numpy(a).requires_grad_() for a in arrays)
        if name == "tood":
            y = deform_conv2d(x, offset, weight, s, p, d, g, dg)
        else:
            layer = DeformConv2d(x_shape[1], oc, k, stride=s, padding=p, dilation=d, groups=g,
                                 deform_groups=dg)
            layer.weight = torch.nn.Parameter(weight)
            y = layer(x, offset)
            weight = layer.weight
        (y * grad_out.detach()).sum().backward()
        for key, value in dict(x=x, offset=offset, weight=weight, grad_out=grad_out).items():
            out[f"{name}/{key}"] = value.detach().numpy()
        out[f"{name}/out"] = y.detach().numpy()
        out[f"{name}/grad_x"] = x.grad.numpy()
        out[f"{name}/grad_offset"] = offset.grad.numpy()
        out[f"{name}/grad_weight"] = weight.grad.numpy()
    np.savez_compressed(HERE / "deform_conv.npz", **out)


if __name__ == "__main__":
    main()
