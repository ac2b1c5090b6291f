"""DeformableDETRHead: branch sharing / cloning, init, padding masks, two-stage losses."""

import copy

import pytest
import torch

from detbox.models.dense_heads import DeformableDETRHead

# MMDetection's DETR configs use mmcv's deprecated arguments (mmcv warns, and so do we)
pytestmark = [pytest.mark.filterwarnings("ignore:The arguments `:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:The argument `dropout`:DeprecationWarning")]

C = 16
FFN = dict(type="FFN", embed_dims=C, feedforward_channels=32, ffn_drop=0.0)
MSDA = dict(type="MultiScaleDeformableAttention", embed_dims=C, num_heads=2, num_levels=2,
            num_points=2, dropout=0.0)
TRANSFORMER = dict(
    type="DeformableDetrTransformer", num_feature_levels=2, two_stage_num_proposals=6,
    encoder=dict(type="DetrTransformerEncoder", num_layers=1, transformerlayers=dict(
        type="BaseTransformerLayer", attn_cfgs=MSDA, ffn_cfgs=FFN,
        operation_order=("self_attn", "norm", "ffn", "norm"))),
    decoder=dict(type="DeformableDetrTransformerDecoder", num_layers=2, return_intermediate=True,
                 transformerlayers=dict(
                     type="DetrTransformerDecoderLayer",
                     attn_cfgs=[dict(type="MultiheadAttention", embed_dims=C, num_heads=2), MSDA],
                     ffn_cfgs=FFN, feedforward_channels=32,
                     operation_order=("self_attn", "norm", "cross_attn", "norm", "ffn",
                                      "norm"))))
TRAIN_CFG = dict(assigner=dict(
    type="HungarianAssigner", cls_cost=dict(type="FocalLossCost", weight=2.0),
    reg_cost=dict(type="BBoxL1Cost", weight=5.0, box_format="xywh"),
    iou_cost=dict(type="IoUCost", iou_mode="giou", weight=2.0)))


def head(**kwargs):
    torch.manual_seed(0)
    h = DeformableDETRHead(
        num_classes=3, in_channels=C, num_query=6, transformer=copy.deepcopy(TRANSFORMER),
        positional_encoding=dict(type="SinePositionalEncoding", num_feats=C // 2,
                                 normalize=True, offset=-0.5),
        loss_cls=dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25,
                      loss_weight=2.0),
        train_cfg=TRAIN_CFG, test_cfg=dict(max_per_img=5), **kwargs)
    h.init_weights()
    return h.eval()


def metas(shapes, batch):
    return [dict(img_shape=(h, w, 3), batch_input_shape=batch, scale_factor=[1.0] * 4)
            for h, w in shapes]


def test_branches_shared_or_cloned_and_init():
    plain, refine, two = head(), head(with_box_refine=True), head(with_box_refine=True,
                                                                   as_two_stage=True)
    assert plain.cls_branches[0] is plain.cls_branches[1]
    assert refine.cls_branches[0] is not refine.cls_branches[1]
    assert len(two.cls_branches) == 3 and two.transformer.as_two_stage
    assert "query_embedding.weight" not in two.state_dict()
    assert plain.query_embedding.weight.shape == (6, 2 * C)
    torch.testing.assert_close(plain.cls_branches[0].bias, torch.full((3,), -4.59512), atol=1e-5,
                               rtol=0)
    assert plain.reg_branches[0][-1].bias.tolist() == [0.0, 0.0, -2.0, -2.0]
    assert two.reg_branches[0][-1].bias.tolist() == [0.0] * 4


def test_padding_does_not_change_an_images_outputs():
    for h in (head(), head(with_box_refine=True)):
        feats = [torch.randn(1, C, 4, 6), torch.randn(1, C, 2, 3)]
        alone = h(feats, metas([(32, 48)], (32, 48)))
        padded = [torch.nn.functional.pad(f, (0, f.shape[3] // 3, 0, f.shape[2] // 2))
                  for f in feats]
        padded = [torch.cat([p, torch.randn_like(p)]) for p in padded]
        padded[0][0, :, 4:] = 7.0  # garbage in the padding
        both = h(padded, metas([(32, 48), (48, 64)], (48, 64)))
        torch.testing.assert_close(both[0][:, :1], alone[0], atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(both[1][:, :1], alone[1], atol=1e-5, rtol=1e-4)


def test_two_stage_losses_include_the_encoder_proposals():
    h = head(with_box_refine=True, as_two_stage=True).train()
    feats = [torch.randn(2, C, 4, 6), torch.randn(2, C, 2, 3)]
    m = metas([(32, 48), (32, 40)], (32, 48))
    outs = h(feats, m)
    assert outs[2].shape == (2, 24 + 6, 3) and outs[3].shape == (2, 30, 4)
    losses = h.loss(*outs, [torch.tensor([[2.0, 3.0, 20.0, 30.0]]), torch.zeros(0, 4)],
                    [torch.tensor([2]), torch.zeros(0, dtype=torch.long)], m)
    assert list(losses)[:3] == ["enc_loss_cls", "enc_loss_bbox", "enc_loss_iou"]
    assert "d0.loss_iou" in losses and "d1.loss_cls" not in losses
    sum(losses.values()).backward()
    (dets, labels), _ = h.eval().get_bboxes(*[o.detach() for o in outs], m)
    assert dets.shape == (5, 5) and labels.max() < 3
