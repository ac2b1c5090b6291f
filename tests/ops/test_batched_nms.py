"""batched_nms and multiclass_nms: class offsets, split_thr, max_num, soft_nms, thresholds."""

import pytest
import torch

from detbox.ops import batched_nms, multiclass_nms, nms

NMS = dict(type="nms", iou_threshold=0.5)


def overlapping_pair():
    return torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0]])  # IoU 9/11


def test_classes_do_not_suppress_each_other():
    boxes, scores = overlapping_pair(), torch.tensor([0.8, 0.9])
    dets, keep = batched_nms(boxes, scores, torch.tensor([0, 1]), NMS)
    assert keep.tolist() == [1, 0]  # sorted by score
    torch.testing.assert_close(dets[:, :4], boxes[[1, 0]])  # original, not shifted, boxes
    _, keep = batched_nms(boxes, scores, torch.tensor([1, 1]), NMS)
    assert keep.tolist() == [1]
    _, keep = batched_nms(boxes, scores, torch.tensor([0, 1]), NMS, class_agnostic=True)
    assert keep.tolist() == [1]
    _, keep = batched_nms(boxes, scores, torch.tensor([0, 1]), dict(NMS, class_agnostic=True))
    assert keep.tolist() == [1]


def random_detections(n, num_classes, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 60
    boxes = torch.cat([xy, xy + torch.rand(n, 2, generator=g) * 30 + 1], 1)
    return boxes, torch.rand(n, generator=g), torch.randint(0, num_classes, (n,), generator=g)


def test_split_path_matches_single_pass():
    boxes, scores, idxs = random_detections(300, 4, seed=0)
    dets, keep = batched_nms(boxes, scores, idxs, NMS)
    dets_split, keep_split = batched_nms(boxes, scores, idxs, dict(NMS, split_thr=100))
    assert keep.tolist() == keep_split.tolist()
    torch.testing.assert_close(dets, dets_split)
    # the single pass is per-class NMS: class by class gives the same set
    per_class = set()
    for c in range(4):
        members = (idxs == c).nonzero().view(-1)
        per_class |= set(members[nms(boxes[members], scores[members], 0.5)[1]].tolist())
    assert set(keep.tolist()) == per_class
    assert torch.all(dets[:-1, 4] >= dets[1:, 4])


def test_max_num_in_both_paths():
    boxes, scores, idxs = random_detections(200, 3, seed=1)
    full = batched_nms(boxes, scores, idxs, NMS)[1]
    assert batched_nms(boxes, scores, idxs, dict(NMS, max_num=5))[1].tolist() == full[:5].tolist()
    split = batched_nms(boxes, scores, idxs, dict(NMS, max_num=5, split_thr=10))[1]
    assert split.tolist() == full[:5].tolist()


def test_soft_nms_rescored():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 5.0], [50.0, 50.0, 60.0, 60.0]])
    scores, idxs = torch.tensor([0.9, 0.8, 0.7]), torch.tensor([0, 0, 1])
    cfg = dict(type="soft_nms", iou_threshold=0.3)
    dets, keep = batched_nms(boxes, scores, idxs, cfg)
    assert keep.tolist() == [0, 2, 1]
    torch.testing.assert_close(dets[:, 4], torch.tensor([0.9, 0.7, 0.4]))  # 0.8 * (1 - 0.5)
    dets_split, keep_split = batched_nms(boxes, scores, idxs, dict(cfg, split_thr=1))
    assert keep_split.tolist() == [0, 2, 1]
    torch.testing.assert_close(dets_split, dets)


def test_none_cfg_sorts_only_and_unknown_type_fails():
    boxes, scores = overlapping_pair(), torch.tensor([0.8, 0.9])
    dets, keep = batched_nms(boxes, scores, torch.tensor([0, 0]), None)
    assert keep.tolist() == [1, 0] and dets.shape == (2, 5)
    with pytest.raises(KeyError, match="nms_match"):
        batched_nms(boxes, scores, torch.tensor([0, 0]), dict(type="nms_match"))


def test_deprecated_iou_thr_is_renamed():
    boxes, scores = overlapping_pair(), torch.tensor([0.8, 0.9])
    with pytest.warns(DeprecationWarning, match="iou_thr"):
        _, keep = batched_nms(boxes, scores, torch.tensor([0, 0]), dict(type="nms", iou_thr=0.5))
    assert keep.tolist() == [1]


def test_multiclass_nms_two_classes_by_hand():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0],
                          [30.0, 30.0, 40.0, 40.0]])
    # columns: class 0, class 1, background (ignored)
    scores = torch.tensor([[0.9, 0.2, 0.1], [0.8, 0.6, 0.3], [0.05, 0.7, 0.9]])
    dets, labels = multiclass_nms(boxes, scores, score_thr=0.1, nms_cfg=NMS)
    # class 0: box 0 (0.9) suppresses box 1 (0.8), box 2 (0.05) is under score_thr;
    # class 1: box 2 (0.7), box 1 (0.6), box 0 (0.2) suppressed by box 1
    assert labels.tolist() == [0, 1, 1]
    torch.testing.assert_close(dets[:, 4], torch.tensor([0.9, 0.7, 0.6]))
    torch.testing.assert_close(dets[:, :4], boxes[[0, 2, 1]])

    dets, labels, inds = multiclass_nms(boxes, scores, 0.1, NMS, max_num=2, return_inds=True)
    assert labels.tolist() == [0, 1]
    assert inds.tolist() == [0, 5]  # flattened box-major (box * num_classes + class)


def test_multiclass_nms_threshold_is_strict_and_factors_apply_after():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [30.0, 30.0, 40.0, 40.0]])
    scores = torch.tensor([[0.5, 0.0], [0.4, 0.0]])
    dets, labels = multiclass_nms(boxes, scores, score_thr=0.4, nms_cfg=NMS)
    assert dets[:, 4].tolist() == [0.5]  # 0.4 is not > 0.4
    factors = torch.tensor([0.1, 1.0])
    dets, _ = multiclass_nms(boxes, scores, score_thr=0.3, nms_cfg=NMS, score_factors=factors)
    # both pass the threshold on raw scores; then 0.05 and 0.4, re-sorted
    torch.testing.assert_close(dets[:, 4], torch.tensor([0.4, 0.05]))


def test_multiclass_nms_class_specific_boxes():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0, 50.0, 50.0, 60.0, 60.0]])  # [1, 2 * 4]
    scores = torch.tensor([[0.6, 0.7, 0.0]])
    dets, labels = multiclass_nms(boxes, scores, 0.05, NMS)
    assert labels.tolist() == [1, 0]
    torch.testing.assert_close(dets[:, :4], boxes.view(2, 4)[[1, 0]])


def test_multiclass_nms_empty():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    scores = torch.tensor([[0.01, 0.02, 0.9]])
    dets, labels, inds = multiclass_nms(boxes, scores, 0.05, NMS, return_inds=True)
    assert dets.shape == (0, 5) and labels.shape == (0,) and inds.shape == (0,)
    assert labels.dtype == torch.int64
