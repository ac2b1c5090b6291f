"""SingleStageDetector (RetinaNet, FCOS, ATSS): composition, test and test-time augmentation."""

import numpy as np
import pytest
import torch

from detbox.config import Config
from detbox.models.builder import build_detector
from detbox.models.detectors import ATSS, FCOS, RetinaNet, SingleStageDetector
from tests.conftest import REPO


def tiny(rel):
    cfg = Config.fromfile(REPO / "configs" / rel)
    cfg.model.test_cfg.score_thr = 0.01  # a few detections with untrained weights
    torch.manual_seed(0)
    model = build_detector(cfg.model)
    model.init_weights()
    with torch.no_grad():  # spread the untrained class logits a little
        head = model.bbox_head
        cls = getattr(head, "retina_cls", None) or getattr(head, "atss_cls", None) or head.conv_cls
        cls.weight.normal_(0, 0.5)
    return model.eval()


def view(img, flip=False, scale=1.0):
    h, w = img.shape[-2:]
    meta = dict(img_shape=(h, w, 3), ori_shape=(int(h / scale), int(w / scale), 3),
                pad_shape=(h, w, 3), scale_factor=np.full(4, scale, dtype=np.float32),
                flip=flip, flip_direction="horizontal" if flip else None)
    return (img.flip(-1) if flip else img), meta


@pytest.mark.parametrize("rel, cls", [("retinanet/retinanet_r18_fpn_tiny_1x_coco.py", RetinaNet),
                                      ("fcos/fcos_r18_fpn_gn-head_tiny_1x_coco.py", FCOS),
                                      ("atss/atss_r18_fpn_tiny_1x_coco.py", ATSS)])
def test_aug_test_merges_views(rel, cls):
    model = tiny(rel)
    assert isinstance(model, cls) and isinstance(model, SingleStageDetector)
    torch.manual_seed(1)
    img, meta = view(torch.randn(1, 3, 64, 96))
    with torch.no_grad():
        (single,) = model(img=[img], img_metas=[[meta]], return_loss=False, rescale=True)
        # two identical views: each candidate comes twice, NMS drops the copies
        (same,) = model(img=[img, img], img_metas=[[meta], [dict(meta)]], return_loss=False,
                        rescale=True)
        flipped, fmeta = view(img, flip=True)
        (ref_flip,) = model(img=[flipped], img_metas=[[fmeta]], return_loss=False, rescale=True)
        (merged_flip,) = model(img=[flipped, flipped], img_metas=[[fmeta], [dict(fmeta)]],
                               return_loss=False, rescale=True)
    assert sum(len(d) for d in single) > 0
    for a, b in zip(single, same):
        np.testing.assert_allclose(b, a, rtol=1e-6)
    for a, b in zip(ref_flip, merged_flip):  # boxes mapped back: x -> 96 - x
        assert a.shape == b.shape
        mirrored = a.copy()
        mirrored[:, [0, 2]] = 96 - a[:, [2, 0]]
        np.testing.assert_allclose(b, mirrored, rtol=1e-5, atol=1e-4)


def test_aug_test_without_rescale_returns_first_view_scale():
    model = tiny("retinanet/retinanet_r18_fpn_tiny_1x_coco.py")
    img, meta = view(torch.randn(1, 3, 64, 96), scale=2.0)
    with torch.no_grad():
        (orig,) = model(img=[img, img], img_metas=[[meta], [dict(meta)]], return_loss=False,
                        rescale=True)
        (scaled,) = model(img=[img, img], img_metas=[[meta], [dict(meta)]], return_loss=False,
                          rescale=False)
    for a, b in zip(orig, scaled):
        np.testing.assert_allclose(b[:, :4], a[:, :4] * 2, rtol=1e-5)


def test_composition_and_errors():
    cfg = Config.fromfile(REPO / "configs/retinanet/retinanet_r18_fpn_tiny_1x_coco.py").model
    model = build_detector(cfg)
    assert model.with_neck and model.with_bbox
    assert model.bbox_head.test_cfg["nms_pre"] == 1000
    assert model.bbox_head.train_cfg["assigner"]["type"] == "MaxIoUAssigner"
    outs = model.forward_dummy(torch.zeros(1, 3, 64, 64))
    assert len(outs) == 2 and len(outs[0]) == 5
    with pytest.raises(ValueError, match="bbox_head"):
        SingleStageDetector(backbone=cfg.backbone, neck=cfg.neck)
