"""EmbeddingRPNHead: learned proposals scaled to each image, initialisation."""

import pytest
import torch

from detbox.models.dense_heads import EmbeddingRPNHead


def test_proposals_start_as_the_whole_image():
    h = EmbeddingRPNHead(num_proposals=4, proposal_feature_channel=8)
    h.init_weights()
    feats = (torch.zeros(2, 8, 5, 5),)
    metas = [dict(img_shape=(40, 60, 3)), dict(img_shape=(30, 20, 3))]
    boxes, features, whwh = h.simple_test_rpn(feats, metas)
    assert boxes.shape == (2, 4, 4) and features.shape == (2, 4, 8)
    torch.testing.assert_close(boxes[1, 0], torch.tensor([0.0, 0.0, 20.0, 30.0]))
    torch.testing.assert_close(whwh, torch.tensor([[[60.0, 40.0, 60.0, 40.0]],
                                                   [[20.0, 30.0, 20.0, 30.0]]]))
    assert sorted(h.state_dict()) == ["init_proposal_bboxes.weight",
                                      "init_proposal_features.weight"]
    with pytest.raises(ValueError, match="init_cfg"):
        EmbeddingRPNHead(init_cfg=dict(type="Normal"))
