"""LAD: a PAA-style student trained on its teacher's label assignment; the teacher (given
inline) is held outside the student's state_dict, loaded from a PAA checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from detbox.models.builder import build_detector

ANCHORS = dict(type="AnchorGenerator", ratios=[1.0], octave_base_scale=8, scales_per_octave=1,
               strides=[8, 16])
TRAIN_CFG = dict(assigner=dict(type="MaxIoUAssigner", pos_iou_thr=0.1, neg_iou_thr=0.1,
                               min_pos_iou=0, ignore_iof_thr=-1),
                 allowed_border=-1, pos_weight=-1, debug=False)
TEST_CFG = dict(nms_pre=100, min_bbox_size=0, score_thr=0.05, score_voting=True,
                nms=dict(type="nms", iou_threshold=0.6), max_per_img=10)


def parts(channels=8, head_type="LADHead"):
    return dict(
        backbone=dict(type="ResNet", depth=18, base_channels=channels, num_stages=4,
                      out_indices=(1, 2), frozen_stages=1, norm_eval=True, init_cfg=None),
        neck=dict(type="FPN", in_channels=[2 * channels, 4 * channels], out_channels=8,
                  num_outs=2),
        bbox_head=dict(type=head_type, reg_decoded_bbox=True, score_voting=True, topk=9,
                       num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1,
                       norm_cfg=dict(type="GN", num_groups=4), anchor_generator=ANCHORS,
                       bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4,
                                       target_stds=[0.1, 0.1, 0.2, 0.2]),
                       loss_cls=dict(type="FocalLoss", use_sigmoid=True, gamma=2.0,
                                     alpha=0.25),
                       loss_bbox=dict(type="GIoULoss", loss_weight=1.3),
                       loss_centerness=dict(type="CrossEntropyLoss", use_sigmoid=True,
                                            loss_weight=0.5)))


def lad(teacher_ckpt=None, teacher_head="LADHead", **kwargs):
    torch.manual_seed(0)
    teacher = parts(channels=4, head_type=teacher_head)
    return build_detector(dict(type="LAD", **parts(), teacher_backbone=teacher["backbone"],
                               teacher_neck=teacher["neck"],
                               teacher_bbox_head=teacher["bbox_head"],
                               teacher_ckpt=teacher_ckpt, train_cfg=TRAIN_CFG,
                               test_cfg=TEST_CFG, **kwargs))


def batch():
    torch.manual_seed(1)
    img = torch.randn(2, 3, 64, 64)
    meta = dict(img_shape=(64, 64, 3), ori_shape=(64, 64, 3), pad_shape=(64, 64, 3),
                scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)
    return (img, [dict(meta), dict(meta)],
            [torch.tensor([[4.0, 6.0, 40.0, 50.0]]), torch.tensor([[10.0, 2.0, 62.0, 30.0]])],
            [torch.tensor([1]), torch.tensor([0])])


def test_the_teacher_is_not_part_of_the_student():
    model = lad()
    assert set(dict(model.teacher_model.named_children())) == {"backbone", "neck", "bbox_head"}
    assert model.with_teacher_neck
    assert not any(k.startswith("teacher") for k in model.state_dict())
    assert not {id(p) for p in model.teacher_model.parameters()} & {
        id(p) for p in model.parameters()}
    assert model.teacher_model.bbox_head.train_cfg == TRAIN_CFG
    assert not model.teacher_model.training
    model.double()
    assert all(p.dtype == torch.float64 for p in model.teacher_model.parameters())


def test_training_follows_the_teacher_s_assignment(tmp_path):
    torch.manual_seed(5)
    teacher_state = lad().teacher_model.state_dict()
    path = tmp_path / "paa_teacher.pth"
    torch.save(dict(meta=dict(), state_dict=teacher_state), path)
    model = lad(teacher_ckpt=str(path))
    for key, value in model.teacher_model.state_dict().items():
        assert torch.equal(value, teacher_state[key]), key
    model.train()
    assert not model.teacher_model.training
    img, metas, gt_bboxes, gt_labels = batch()
    seen = []
    head = model.bbox_head
    loss_of = head.loss

    def recording_loss(*args, **kwargs):
        seen.append(kwargs["label_assignment_results"])
        return loss_of(*args, **kwargs)

    head.loss = recording_loss
    losses = model(img, metas, gt_bboxes=gt_bboxes, gt_labels=gt_labels)
    assert set(losses) == {"loss_cls", "loss_bbox", "loss_iou"}
    (assignment,) = seen
    with torch.no_grad():
        teacher = model.teacher_model
        expected = teacher.bbox_head.get_label_assignment(
            *teacher.bbox_head(teacher.neck(teacher.backbone(img))), gt_bboxes, gt_labels,
            metas)
    assert assignment.num_pos == expected.num_pos > 0
    assert torch.equal(assignment.labels, expected.labels)
    loss, _ = model._parse_losses(losses)
    loss.backward()
    assert all(p.grad is None for p in model.teacher_model.parameters())
    assert model.bbox_head.atss_cls.weight.grad.abs().sum() > 0


def test_testing_is_the_student_s_paa_decoding():
    model = lad()
    model.eval()
    img, metas, _, _ = batch()
    with torch.no_grad():
        (result,) = model(img=[img[:1]], img_metas=[metas[:1]], return_loss=False)
    assert len(result) == 3 and all(r.shape[1] == 5 for r in result)


def test_a_teacher_head_without_label_assignment_is_refused():
    with pytest.raises(TypeError, match="PAAHead has no get_label_assignment"):
        lad(teacher_head="PAAHead")
