"""LADHead: PAA's assignment computed from one head's (the teacher's) outputs, and the
student's losses under it."""

import torch

from detbox.models.dense_heads import LADHead, PAAHead
from detbox.models.dense_heads.lad_head import LabelAssignment
from detbox.models.losses import giou_loss

TRAIN_CFG = dict(assigner=dict(type="MaxIoUAssigner", pos_iou_thr=0.1, neg_iou_thr=0.1,
                               min_pos_iou=0, ignore_iof_thr=-1),
                 allowed_border=-1, pos_weight=-1, debug=False)
META = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3), scale_factor=[1.0] * 4)
GT_BBOXES = [torch.tensor([[8.0, 8.0, 40.0, 40.0], [30.0, 20.0, 62.0, 60.0]]),
             torch.tensor([[0.0, 0.0, 60.0, 30.0]])]
GT_LABELS = [torch.tensor([0, 1]), torch.tensor([1])]


def head(cls=LADHead, seed=0):
    torch.manual_seed(seed)
    out = cls(num_classes=2, in_channels=8, feat_channels=8, stacked_convs=1,
              norm_cfg=dict(type="GN", num_groups=4), train_cfg=TRAIN_CFG, topk=9,
              anchor_generator=dict(type="AnchorGenerator", ratios=[1.0], octave_base_scale=8,
                                    scales_per_octave=1, strides=[8, 16]),
              bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4,
                              target_stds=[0.1, 0.1, 0.2, 0.2]),
              loss_cls=dict(type="FocalLoss", use_sigmoid=True),
              loss_bbox=dict(type="GIoULoss", loss_weight=1.3),
              loss_centerness=dict(type="CrossEntropyLoss", use_sigmoid=True, loss_weight=0.5))
    out.init_weights()
    return out


def feats(seed=1):
    torch.manual_seed(seed)
    return [torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)]


def test_the_assignment_is_paa_s_and_the_loss_differs_in_the_box_term_only():
    lad = head()
    paa = head(PAAHead)
    paa.load_state_dict(lad.state_dict())
    outs = lad(feats())
    assignment = lad.get_label_assignment(*outs, GT_BBOXES, GT_LABELS, [META, META])
    assert isinstance(assignment, LabelAssignment) and len(assignment) == 7
    labels = assignment.labels
    assert labels.shape == (2 * (64 + 16),)
    pos = assignment.pos_inds_flatten
    assert assignment.num_pos == len(pos) > 0
    assert ((labels[pos] >= 0) & (labels[pos] < 2)).all()
    assert (labels[~torch.isin(torch.arange(len(labels)), pos)] == 2).all()
    ours = lad.loss(*outs, GT_BBOXES, GT_LABELS, [META, META],
                    label_assignment_results=assignment)
    theirs = paa.loss(*outs, GT_BBOXES, GT_LABELS, [META, META])
    torch.testing.assert_close(ours["loss_cls"], theirs["loss_cls"])
    torch.testing.assert_close(ours["loss_iou"], theirs["loss_iou"])
    # GIoU averaged over the positives, without PAA's IoU weights
    decoded = lad.bbox_coder.decode(assignment.pos_anchors,
                                    torch.cat([p.permute(0, 2, 3, 1).reshape(2, -1, 4)
                                               for p in outs[1]], 1).reshape(-1, 4)[pos])
    expected = 1.3 * giou_loss(decoded, assignment.bboxes_target[pos], reduction="sum") / len(pos)
    torch.testing.assert_close(ours["loss_bbox"], expected)
    assert not torch.allclose(ours["loss_bbox"], theirs["loss_bbox"])


def test_the_student_learns_the_teacher_s_assignment():
    teacher, student = head(seed=0), head(seed=5)
    x = feats()
    with torch.no_grad():
        assignment = teacher.get_label_assignment(*teacher(x), GT_BBOXES, GT_LABELS,
                                                  [META, META])
    own = student.get_label_assignment(*[[t.detach() for t in o] for o in student(x)],
                                       GT_BBOXES, GT_LABELS, [META, META])
    assert not torch.equal(own.labels, assignment.labels)  # the heads disagree
    losses = student.forward_train(x, assignment, [META, META], GT_BBOXES, GT_LABELS)
    direct = student.loss(*student(x), GT_BBOXES, GT_LABELS, [META, META],
                          label_assignment_results=assignment)
    for key in ("loss_cls", "loss_bbox", "loss_iou"):
        torch.testing.assert_close(losses[key], direct[key])
    sum(losses.values()).backward()
    assert student.atss_cls.weight.grad.abs().sum() > 0
    assert teacher.atss_cls.weight.grad is None
    # without a given assignment the head assigns from its own outputs
    fallback = student.loss(*student(x), GT_BBOXES, GT_LABELS, [META, META])
    by_own = student.loss(*student(x), GT_BBOXES, GT_LABELS, [META, META],
                          label_assignment_results=own)
    for key in fallback:
        torch.testing.assert_close(fallback[key], by_own[key])


def test_without_ground_truth_only_the_classification_loss_remains():
    lad = head()
    outs = lad(feats())
    empty = [torch.zeros(0, 4), torch.zeros(0, 4)]
    no_labels = [torch.zeros(0).long(), torch.zeros(0).long()]
    assignment = lad.get_label_assignment(*outs, empty, no_labels, [META, META])
    assert assignment.num_pos == 0 and assignment.pos_anchors is None
    losses = lad.loss(*outs, empty, no_labels, [META, META],
                      label_assignment_results=assignment)
    assert float(losses["loss_bbox"].detach()) == 0 and float(losses["loss_iou"].detach()) == 0
    assert float(losses["loss_cls"].detach()) > 0


def test_under_autocast_the_assignment_passes_through_force_fp32():
    """Configs with ``fp16`` train under autocast; ``force_fp32`` recasts the arguments,
    the assignment (a NamedTuple) included."""
    lad = head()
    x = feats()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        outs = lad(x)
        assignment = lad.get_label_assignment(*outs, GT_BBOXES, GT_LABELS, [META, META])
        losses = lad.loss(*outs, GT_BBOXES, GT_LABELS, [META, META],
                          label_assignment_results=assignment)
    assert isinstance(assignment, LabelAssignment) and assignment.num_pos > 0
    assert all(v.dtype == torch.float32 and torch.isfinite(v) for v in losses.values())
