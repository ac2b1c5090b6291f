"""LDHead: GFL's losses plus the distillation of the box distributions towards a teacher's."""

import pytest
import torch

from detbox.models.dense_heads import GFLHead, LDHead

ANCHORS = dict(type="AnchorGenerator", ratios=[1.0], octave_base_scale=8, scales_per_octave=1,
               strides=[8, 16])
TRAIN_CFG = dict(assigner=dict(type="ATSSAssigner", topk=9), allowed_border=-1, pos_weight=-1,
                 debug=False)
ARGS = dict(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1, reg_max=4,
            anchor_generator=ANCHORS, train_cfg=TRAIN_CFG, norm_cfg=dict(type="GN", num_groups=4),
            loss_cls=dict(type="QualityFocalLoss", use_sigmoid=True, beta=2.0, loss_weight=1.0),
            loss_bbox=dict(type="GIoULoss", loss_weight=2.0))
META = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))
GT = [torch.tensor([[10.0, 12.0, 60.0, 50.0], [30.0, 5.0, 44.0, 20.0]])], [torch.tensor([2, 0])]


def heads():
    torch.manual_seed(0)
    ld = LDHead(**ARGS, loss_ld=dict(type="KnowledgeDistillationKLDivLoss", loss_weight=0.25,
                                     T=10))
    ld.init_weights()
    gfl = GFLHead(**ARGS)
    gfl.load_state_dict(ld.state_dict())  # loss_ld has no weights: the same layout
    return ld, gfl


def feats(seed=0):
    torch.manual_seed(seed)
    return [torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)]


def test_layout_is_gfl_s():
    ld, gfl = heads()
    assert list(ld.state_dict()) == list(gfl.state_dict())
    assert ld.loss_ld.T == 10 and ld.loss_ld.loss_weight == 0.25


def test_losses_are_gfl_s_with_ld_s_normaliser_and_loss_ld():
    ld, gfl = heads()
    x = feats()
    cls_scores, bbox_preds = ld(x)
    teacher = [p.flip(1) * 2 for p in bbox_preds]  # another distribution per side
    ours = ld.loss(cls_scores, bbox_preds, *GT, teacher, [META])
    theirs = gfl.loss(cls_scores, bbox_preds, *GT, [META])
    assert set(ours) == {"loss_cls", "loss_bbox", "loss_dfl", "loss_ld"}
    for a, b in zip(ours["loss_cls"], theirs["loss_cls"]):
        torch.testing.assert_close(a, b)
    # GIoU and DFL: the same per-level sums; GFL divides by max(sum of scores, 1), LD by
    # sum of scores + 1e-6 (the fresh head's scores are ~0.01, so the two differ)
    ratios = [(a / b).detach() for key in ("loss_bbox", "loss_dfl")
              for a, b in zip(ours[key], theirs[key])
              if float(b.detach()) > 0]
    assert len(ratios) >= 2 and float(ratios[0]) > 2
    for r in ratios[1:]:
        torch.testing.assert_close(r, ratios[0])
    assert sum(float(v.detach()) for v in ours["loss_ld"]) > 0


def test_loss_ld_is_zero_for_the_student_s_own_distributions_and_trains_only_the_student():
    ld, _ = heads()
    x = feats()
    cls_scores, bbox_preds = ld(x)
    same = ld.loss(cls_scores, bbox_preds, *GT, [p.detach() for p in bbox_preds], [META])
    assert all(abs(float(v.detach())) < 1e-6 for v in same["loss_ld"])
    teacher = [torch.randn_like(p, requires_grad=True) for p in bbox_preds]
    losses = ld.loss(cls_scores, bbox_preds, *GT, teacher, [META])
    sum(losses["loss_ld"]).backward()
    assert all(t.grad is None for t in teacher)  # the targets are detached
    assert ld.gfl_reg.weight.grad.abs().sum() > 0
    assert ld.gfl_cls.weight.grad is None  # the scores weight loss_ld, detached


def test_forward_train_takes_the_teacher_s_box_outputs():
    ld, _ = heads()
    x = feats()
    teacher_outs = ([torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 4, 4)],
                    [torch.randn(1, 20, 8, 8), torch.randn(1, 20, 4, 4)])
    losses = ld.forward_train(x, teacher_outs, [META], *GT)
    direct = ld.loss(*ld(x), *GT, teacher_outs[1], [META])
    for key in direct:
        for a, b in zip(losses[key], direct[key]):
            torch.testing.assert_close(a, b)


def test_without_ground_truth_the_box_terms_are_zero():
    ld, _ = heads()
    cls_scores, bbox_preds = ld(feats())
    losses = ld.loss(cls_scores, bbox_preds, [torch.zeros(0, 4)], [torch.zeros(0).long()],
                     [torch.randn_like(p) for p in bbox_preds], [META])
    for key in ("loss_bbox", "loss_dfl", "loss_ld"):
        assert all(float(v.detach()) == 0 for v in losses[key])
    assert sum(float(v.detach()) for v in losses["loss_cls"]) > 0


def test_a_teacher_with_other_levels_is_an_error():
    ld, _ = heads()
    cls_scores, bbox_preds = ld(feats())
    with pytest.raises(ValueError, match="teacher gives 1 levels, the student 2"):
        ld.loss(cls_scores, bbox_preds, *GT, bbox_preds[:1], [META])
