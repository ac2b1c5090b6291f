"""Deformable RoI pooling: mmcv's forward and backward, checked against torchvision's RoIAlign
(the same sampling with zero offsets, and per bin with shifted RoIs) and against a float64
loop transcribing mmcv's CUDA kernels (mmcv-full 1.7.2 has no CPU kernel to record); the
Packs' layout and start; a Faster R-CNN step with it."""

import math

import pytest
import torch
from torchvision.ops import roi_align

from detbox.models.roi_heads.roi_extractors import (
    DeformRoIPool,
    DeformRoIPoolPack,
    ModulatedDeformRoIPoolPack,
)
from detbox.models.roi_heads.roi_extractors.deform_roi_pool import deform_roi_pool
from detbox.registry import LAYERS

ROIS = torch.tensor([[0, 1.3, 2.2, 11.7, 9.1],    # inside
                     [1, -3.0, -2.5, 6.2, 5.9],   # over the top-left border
                     [0, 8.4, 6.1, 19.5, 14.9],   # over the bottom-right border
                     [1, 4.0, 4.0, 4.6, 5.1]])    # smaller than a bin (one sample)


def _inputs(seed=0, offset_scale=1.5):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 3, 12, 16, generator=g, dtype=torch.float64)
    offset = offset_scale * torch.randn(len(ROIS), 2, 3, 2, generator=g, dtype=torch.float64)
    return x, ROIS.double(), offset


def _mmcv_loops(x, rois, offset, out_size, scale, ratio, gamma, grad_out):
    """mmcv's deform_roi_pool forward and backward kernels, one (roi, c, ph, pw) at a time."""
    ph_n, pw_n = out_size
    _, channels, height, width = x.shape
    out = torch.zeros(len(rois), channels, ph_n, pw_n, dtype=x.dtype)
    g_x, g_off = torch.zeros_like(x), torch.zeros_like(offset)

    def corners(y, xx):
        if y < -1.0 or y > height or xx < -1.0 or xx > width:
            return None
        y, xx = max(y, 0.0), max(xx, 0.0)
        yl, xl = int(y), int(xx)
        if yl >= height - 1:
            yh = yl = height - 1
            y = float(yl)
        else:
            yh = yl + 1
        if xl >= width - 1:
            xh = xl = width - 1
            xx = float(xl)
        else:
            xh = xl + 1
        ly, lx = y - yl, xx - xl
        return yl, yh, xl, xh, ((1 - ly) * (1 - lx), (1 - ly) * lx, ly * (1 - lx), ly * lx)

    for n, (b, x1, y1, x2, y2) in enumerate(rois.tolist()):
        b = int(b)
        sw, sh = x1 * scale - 0.5, y1 * scale - 0.5
        rw, rh = (x2 * scale - 0.5) - sw, (y2 * scale - 0.5) - sh
        bh, bw = rh / ph_n, rw / pw_n
        gh = ratio if ratio > 0 else math.ceil(rh / ph_n)
        gw = ratio if ratio > 0 else math.ceil(rw / pw_n)
        for c in range(channels):
            img = x[b, c]
            for ph in range(ph_n):
                for pw in range(pw_n):
                    start_w = sw + gamma * rw * float(offset[n, 0, ph, pw])
                    start_h = sh + gamma * rh * float(offset[n, 1, ph, pw])
                    count = max(gh * gw, 1)
                    go = float(grad_out[n, c, ph, pw]) / count
                    total = 0.0
                    for iy in range(gh):
                        y = start_h + ph * bh + (iy + 0.5) * bh / gh
                        for ix in range(gw):
                            xx = start_w + pw * bw + (ix + 0.5) * bw / gw
                            got = corners(y, xx)
                            if got is None:
                                continue
                            yl, yh, xl, xh, w = got
                            v = (img[yl, xl], img[yl, xh], img[yh, xl], img[yh, xh])
                            total += sum(wi * float(vi) for wi, vi in zip(w, v))
                            for (yy, xq), wi in zip(((yl, xl), (yl, xh), (yh, xl), (yh, xh)), w):
                                g_x[b, c, yy, xq] += go * wi
                            v00, v10, v01, v11 = (float(t) for t in v)
                            g_off[n, 0, ph, pw] += gamma * rw * go * (
                                v11 * (y - yl) + v10 * (yh - y) + v01 * (yl - y) + v00 * (y - yh))
                            g_off[n, 1, ph, pw] += gamma * rh * go * (
                                v11 * (xx - xl) + v01 * (xh - xx) + v10 * (xl - xx)
                                + v00 * (xx - xh))
                    out[n, c, ph, pw] = total / count
    return out, g_x, g_off


@pytest.mark.parametrize("ratio", [0, 2])
def test_zero_offsets_are_roi_align(ratio):
    x, rois, _ = _inputs()
    ours = deform_roi_pool(x, rois, None, (3, 2), 0.5, ratio)
    torch.testing.assert_close(ours, roi_align(x, rois, (3, 2), 0.5, ratio, True))


def test_offsets_move_each_bin_like_a_shifted_roi():
    x, rois, offset = _inputs()
    gamma, scale = 0.1, 1.0
    ours = deform_roi_pool(x, rois, offset, (3, 2), scale, 0, gamma)
    for n, (b, x1, y1, x2, y2) in enumerate(rois.tolist()):
        for ph in range(3):
            for pw in range(2):
                dx = gamma * (x2 - x1) * float(offset[n, 0, ph, pw])
                dy = gamma * (y2 - y1) * float(offset[n, 1, ph, pw])
                shifted = torch.tensor([[b, x1 + dx, y1 + dy, x2 + dx, y2 + dy]],
                                       dtype=x.dtype)
                want = roi_align(x, shifted, (3, 2), scale, 0, True)[0, :, ph, pw]
                torch.testing.assert_close(ours[n, :, ph, pw], want)


@pytest.mark.parametrize("ratio, scale", [(0, 1.0), (3, 0.5)])
def test_forward_and_backward_equal_mmcv_kernels(ratio, scale):
    x, rois, offset = _inputs(1)
    grad_out = torch.randn(len(rois), 3, 3, 2, generator=torch.Generator().manual_seed(2),
                           dtype=torch.float64)
    want, want_gx, want_goff = _mmcv_loops(x, rois, offset, (3, 2), scale, ratio, 0.1, grad_out)
    x.requires_grad_()
    offset.requires_grad_()
    ours = deform_roi_pool(x, rois, offset, (3, 2), scale, ratio, 0.1)
    (ours * grad_out).sum().backward()
    torch.testing.assert_close(ours.detach(), want)
    torch.testing.assert_close(x.grad, want_gx)
    torch.testing.assert_close(offset.grad, want_goff)
    assert offset.grad.abs().sum() > 0


def test_chunks_give_the_same_result(monkeypatch):
    import detbox.models.roi_heads.roi_extractors.deform_roi_pool as mod

    x, rois, offset = _inputs()
    whole = deform_roi_pool(x, rois, offset, (3, 2))
    monkeypatch.setattr(mod, "_CHUNK_ELEMENTS", 1)  # one RoI per chunk
    torch.testing.assert_close(deform_roi_pool(x, rois, offset, (3, 2)), whole)
    assert deform_roi_pool(x, rois[:0], offset[:0], (3, 2)).shape == (0, 3, 3, 2)


def test_packs_layout_init_and_forward():
    pack = LAYERS.build(dict(type="DeformRoIPoolPack", output_size=7, output_channels=4,
                             deform_fc_channels=8, spatial_scale=0.25))
    assert isinstance(pack, DeformRoIPoolPack) and isinstance(pack, DeformRoIPool)
    assert {k: tuple(v.shape) for k, v in pack.state_dict().items()} == {
        "offset_fc.0.weight": (8, 196), "offset_fc.0.bias": (8,), "offset_fc.2.weight": (8, 8),
        "offset_fc.2.bias": (8,), "offset_fc.4.weight": (98, 8), "offset_fc.4.bias": (98,)}
    mpack = ModulatedDeformRoIPoolPack(7, 4, deform_fc_channels=8, spatial_scale=0.25)
    assert {k: tuple(v.shape) for k, v in mpack.state_dict().items() if "mask" in k} == {
        "mask_fc.0.weight": (8, 196), "mask_fc.0.bias": (8,), "mask_fc.2.weight": (49, 8),
        "mask_fc.2.bias": (49,)}
    feats = torch.randn(2, 4, 16, 16)
    rois = torch.tensor([[0, 4.0, 8.0, 40.0, 50.0], [1, 10.0, 2.0, 30.0, 60.0]])
    plain = roi_align(feats, rois, (7, 7), 0.25, 0, True)
    # zero-initialised last layers: no offsets at the start, and a mask of sigmoid(0) = 0.5
    torch.testing.assert_close(pack(feats, rois), plain)
    torch.testing.assert_close(mpack(feats, rois), 0.5 * plain)
    with torch.no_grad():
        pack.offset_fc[4].bias.fill_(0.3)
    moved = pack(feats, rois)
    assert not torch.allclose(moved, plain)
    moved.sum().backward()
    assert pack.offset_fc[4].weight.grad.abs().sum() > 0  # the offsets learn
    with pytest.raises(ValueError, match="output_channels is 4"):
        pack(torch.randn(1, 3, 8, 8), rois[:1])


def test_faster_rcnn_with_modulated_deform_roi_pool_trains_and_tests_a_step():
    import numpy as np

    from detbox.config import Config
    from detbox.models.builder import build_detector
    from tests.conftest import REPO

    cfg = Config.fromfile(REPO / "configs/dcnv2/faster_rcnn_r50_fpn_mdconv_c4-c5_tiny_1x_coco.py")
    cfg.model.roi_head.bbox_roi_extractor.roi_layer = dict(
        type="ModulatedDeformRoIPoolPack", output_size=7, output_channels=64,
        deform_fc_channels=32)
    model = build_detector(cfg.model)
    model.init_weights()
    meta = dict(img_shape=(64, 64, 3), ori_shape=(64, 64, 3), pad_shape=(64, 64, 3),
                scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)
    img = torch.randn(1, 3, 64, 64)
    losses = model(img, [meta], gt_bboxes=[torch.tensor([[8.0, 8.0, 40.0, 50.0]])],
                   gt_labels=[torch.tensor([1])])
    loss, _ = model._parse_losses(losses)
    loss.backward()
    layer = model.roi_head.bbox_roi_extractor.roi_layers[0]
    assert layer.offset_fc[4].weight.grad is not None and layer.mask_fc[2].weight.grad is not None
    model.eval()
    with torch.no_grad():
        (result,) = model(img=[img], img_metas=[[meta]], return_loss=False, rescale=True)
    assert len(result) == 80 and all(r.shape[1] == 5 for r in result)


def test_bfloat16_features_keep_float32_positions():
    x, rois, offset = _inputs()
    want = deform_roi_pool(x.float(), rois.float(), offset.float(), (3, 2))
    got = deform_roi_pool(x.bfloat16(), rois.float(), offset.bfloat16(), (3, 2))
    assert got.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), want, atol=0.05, rtol=0.02)
