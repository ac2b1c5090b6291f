"""DETRHead: padding mask, losses (class weights, auxiliary layers, empty images), decoding,
old checkpoint keys."""

import pytest
import torch

from detbox.models.dense_heads import DETRHead

# MMDetection's DETR configs use mmcv's deprecated arguments (mmcv warns, and so do we)
pytestmark = [pytest.mark.filterwarnings("ignore:The arguments `:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:The argument `dropout`:DeprecationWarning")]

ATTN = dict(type="MultiheadAttention", embed_dims=16, num_heads=2, dropout=0.0)
FFN = dict(type="FFN", embed_dims=16, feedforward_channels=32, ffn_drop=0.0)
TRANSFORMER = dict(
    type="Transformer",
    encoder=dict(type="DetrTransformerEncoder", num_layers=1, transformerlayers=dict(
        type="BaseTransformerLayer", attn_cfgs=[ATTN], ffn_cfgs=FFN,
        operation_order=("self_attn", "norm", "ffn", "norm"))),
    decoder=dict(type="DetrTransformerDecoder", return_intermediate=True, num_layers=2,
                 transformerlayers=dict(
                     type="DetrTransformerDecoderLayer", attn_cfgs=ATTN, ffn_cfgs=FFN,
                     feedforward_channels=32,
                     operation_order=("self_attn", "norm", "cross_attn", "norm", "ffn",
                                      "norm"))))
TRAIN_CFG = dict(assigner=dict(
    type="HungarianAssigner", cls_cost=dict(type="ClassificationCost", weight=1.0),
    reg_cost=dict(type="BBoxL1Cost", weight=5.0, box_format="xywh"),
    iou_cost=dict(type="IoUCost", iou_mode="giou", weight=2.0)))


def head(**kwargs):
    args = dict(num_classes=3, in_channels=8, num_query=6, transformer=TRANSFORMER,
                positional_encoding=dict(type="SinePositionalEncoding", num_feats=8,
                                         normalize=True),
                train_cfg=TRAIN_CFG, test_cfg=dict(max_per_img=5))
    args.update(kwargs)
    torch.manual_seed(0)
    h = DETRHead(**args)
    h.init_weights()
    return h.eval()


def metas(shapes, batch):
    return [dict(img_shape=(h, w, 3), batch_input_shape=batch, scale_factor=[2.0] * 4)
            for h, w in shapes]


def test_padding_does_not_change_an_images_outputs():
    h = head()
    x = torch.randn(1, 8, 4, 6)
    alone = h((x,), metas([(32, 48)], (32, 48)))
    padded = torch.cat([torch.cat([x, torch.randn(1, 8, 4, 2)], 3), torch.randn(1, 8, 4, 8)])
    padded = torch.cat([padded, torch.randn(2, 8, 2, 8)], 2)
    both = h((padded,), metas([(32, 48), (48, 64)], (48, 64)))
    torch.testing.assert_close(both[0][0][:, :1], alone[0][0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(both[1][0][:, :1], alone[1][0], atol=1e-5, rtol=1e-5)
    assert both[0][0].shape == (2, 2, 6, 4)  # layers, images, queries, classes + background


def test_losses_for_every_decoder_layer_and_an_empty_image():
    h = head().train()
    x = torch.randn(2, 8, 4, 6)
    m = metas([(32, 48), (30, 40)], (32, 48))
    gt_bboxes = [torch.tensor([[2.0, 3.0, 20.0, 30.0]]), torch.zeros(0, 4)]
    gt_labels = [torch.tensor([1]), torch.zeros(0, dtype=torch.long)]
    losses = h.forward_train((x,), m, gt_bboxes, gt_labels)
    assert list(losses) == ["loss_cls", "loss_bbox", "loss_iou", "d0.loss_cls", "d0.loss_bbox",
                            "d0.loss_iou"]
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert h.query_embedding.weight.grad is not None
    # background weight 0.1 and the classification normaliser num_pos + 0.1 * num_neg
    assert h.loss_cls.class_weight == [1.0, 1.0, 1.0, 0.1]
    with pytest.raises(ValueError, match="proposal_cfg"):
        h.forward_train((x,), m, gt_bboxes, gt_labels, proposal_cfg=dict())


def test_matcher_weights_must_equal_loss_weights():
    with pytest.raises(ValueError, match="regression L1"):
        head(loss_bbox=dict(type="L1Loss", loss_weight=1.0))
    with pytest.raises(ValueError, match="num_feats"):
        head(positional_encoding=dict(type="SinePositionalEncoding", num_feats=4))


def test_decoding_takes_the_best_foreground_class_per_query():
    h = head()
    cls = torch.full((1, 1, 6, 4), -5.0)
    cls[0, 0, 2, 1] = 5.0
    boxes = torch.full((1, 1, 6, 4), 0.5)
    boxes[0, 0, 2] = torch.tensor([0.25, 0.5, 0.5, 1.0])
    (dets, labels), = h.get_bboxes([cls], [boxes], metas([(40, 80)], (40, 80)), rescale=True)
    assert dets.shape == (5, 5) and int(labels[0]) == 1
    # cx, cy, w, h normalised -> pixels of img_shape, clamped, then / scale_factor
    torch.testing.assert_close(dets[0, :4], torch.tensor([0.0, 0.0, 40.0, 40.0]) / 2)


def test_checkpoints_before_version_2_are_renamed():
    h = head()
    sd = h.state_dict()
    old = {k.replace(".attentions.0.", ".self_attn.").replace(".ffns.0.", ".ffn."): v
           for k, v in sd.items()}
    wrapped = torch.nn.Module()
    wrapped.bbox_head = head()
    sd_old = {f"bbox_head.{k}": v for k, v in old.items()}
    sd_old["bbox_head.transformer.decoder.norm.weight"] = sd_old.pop(
        "bbox_head.transformer.decoder.post_norm.weight")
    sd_old["bbox_head.transformer.decoder.norm.bias"] = sd_old.pop(
        "bbox_head.transformer.decoder.post_norm.bias")
    wrapped.load_state_dict(sd_old, strict=True)  # no version metadata: old layout
    torch.testing.assert_close(wrapped.bbox_head.fc_cls.weight, h.fc_cls.weight)
