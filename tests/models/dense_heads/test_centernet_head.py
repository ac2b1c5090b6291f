"""CenterNetHead: gaussian targets of known boxes, losses, decoding of a known peak."""

import pytest
import torch

from detbox.models.dense_heads import CenterNetHead
from detbox.models.detectors import CenterNet
from detbox.registry import MODELS


def _head():
    torch.manual_seed(0)
    head = MODELS.build(dict(type="CenterNetHead", in_channel=4, feat_channel=4, num_classes=3,
                             test_cfg=dict(topk=5, local_maximum_kernel=3, max_per_img=5)))
    assert isinstance(head, CenterNetHead)
    head.init_weights()
    return head.eval()


def test_targets_put_a_unit_peak_size_and_offset_at_each_center():
    head = _head()
    # 64 px input, 16 px map: ratio 1/4; box center (22, 30) -> (5.5, 7.5), size 8 x 4
    gt = torch.tensor([[6.0, 22.0, 38.0, 38.0]])
    targets, avg = head.get_targets([gt], [torch.tensor([2])], (1, 3, 16, 16), (64, 64, 3))
    heat = targets["center_heatmap_target"]
    assert heat[0, 2, 7, 5] == 1 and heat[0, :2].abs().sum() == 0 and int(avg) == 1
    assert heat[0, 2].max() == 1 and 0 < heat[0, 2, 7, 6] < 1
    assert targets["wh_target"][0, :, 7, 5].tolist() == [8.0, 4.0]
    assert targets["offset_target"][0, :, 7, 5].tolist() == [0.5, 0.5]
    assert targets["wh_offset_target_weight"].sum() == 2


def test_losses_vanish_for_perfect_predictions_of_size_and_offset():
    head = _head()
    gt = [torch.tensor([[6.0, 22.0, 38.0, 38.0]])]
    targets, _ = head.get_targets(gt, [torch.tensor([2])], (1, 3, 16, 16), (64, 64, 3))
    losses = head.loss([targets["center_heatmap_target"].clamp(1e-4, 1 - 1e-4)],
                       [targets["wh_target"]], [targets["offset_target"]], gt,
                       [torch.tensor([2])], [dict(pad_shape=(64, 64, 3))])
    assert float(losses["loss_wh"]) == 0 and float(losses["loss_offset"]) == 0
    assert float(losses["loss_center_heatmap"]) == pytest.approx(0, abs=1e-2)


def test_decoding_a_single_peak():
    head = _head()
    heat = torch.zeros(1, 3, 16, 16)
    heat[0, 1, 7, 5] = 0.9
    wh = torch.zeros(1, 2, 16, 16)
    wh[0, :, 7, 5] = torch.tensor([8.0, 4.0])
    offset = torch.zeros(1, 2, 16, 16)
    offset[0, :, 7, 5] = 0.5
    meta = dict(batch_input_shape=(64, 64), border=[0, 64, 0, 64],
                scale_factor=[1.0, 1.0, 1.0, 1.0])
    (dets, labels), = head.get_bboxes([heat], [wh], [offset], [meta])
    assert dets.shape == (5, 5) and labels[0] == 1
    assert dets[0].tolist() == pytest.approx([6.0, 22.0, 38.0, 38.0, 0.9])


def test_the_detector_is_registered():
    assert MODELS.get("CenterNet") is CenterNet
