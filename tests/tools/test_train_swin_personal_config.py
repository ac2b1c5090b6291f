"""A user's Cascade R-CNN over a (tiny) Swin Transformer, pretrained from a Swin release file.

The user keeps a personal folder (``configs/_me_/``, see ``personal_configs.py``) whose child
config takes the repository's Cascade R-CNN model base, their own dataset base and a schedule,
and swaps the backbone for a Swin Transformer with
``init_cfg=dict(type='Pretrained', checkpoint=<the release URL>)`` and
``convert_weights=True``. The release file (a small fake with the original layout) sits in the
torch hub cache (``$TORCH_HOME/hub/checkpoints``), where detbox looks it up by file name.
``tools/train.py`` trains one epoch of 6 iterations (the loss falls), ``tools/test.py`` evaluates.
"""

import pytest
import torch

from detbox.models.backbones.swin import SwinTransformer
from detbox.models.backbones.swin_converter import swin_converter
from tests.models.backbones.swin_release_layout import original_layout
from tests.tools.cli_helpers import json_logs, log_entries, printed_metrics, run
from tests.tools.personal_configs import make_config_tree
from tests.tools.shapes_fixture import make_shapes

URL = ("https://github.com/SwinTransformer/storage/releases/download/v1.0.0/"
       "swin_tiny_patch4_window7_224.pth")
SWIN = dict(embed_dims=24, depths=[1, 1, 2, 1], num_heads=[1, 2, 4, 8], window_size=7)
CONFIG = "configs/_me_/cascade_rcnn_swin-t_fpn_tiny_shapes.py"
USER_CONFIG = '''\
_base_ = [
    '../_base_/models/cascade_rcnn_r50_fpn.py',
    './_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
pretrained = '{url}'


def head(stds):
    return dict(
        type='Shared2FCBBoxHead', in_channels=64, fc_out_channels=128, roi_feat_size=7,
        num_classes=3,
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                        target_stds=stds),
        reg_class_agnostic=True,
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0))


model = dict(
    backbone=dict(
        _delete_=True,
        type='SwinTransformer',
        embed_dims={embed_dims},
        depths={depths},
        num_heads={num_heads},
        window_size={window_size},
        drop_path_rate=0.1,
        frozen_stages=1,
        out_indices=(0, 1, 2, 3),
        convert_weights=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[24, 48, 96, 192], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=[head([0.1, 0.1, 0.2, 0.2]), head([0.05, 0.05, 0.1, 0.1]),
                   head([0.033, 0.033, 0.067, 0.067])]))
optimizer = dict(
    _delete_=True, type='AdamW', lr=0.0005, betas=(0.9, 0.999), weight_decay=0.05,
    paramwise_cfg=dict(custom_keys={{
        'absolute_pos_embed': dict(decay_mult=0.),
        'relative_position_bias_table': dict(decay_mult=0.),
        'norm': dict(decay_mult=0.)}}))
lr_config = dict(policy='step', warmup='linear', warmup_iters=2, warmup_ratio=0.1, step=[8])
runner = dict(type='EpochBasedRunner', max_epochs=1)
checkpoint_config = dict(interval=1, max_keep_ckpts=1)
log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook')])
evaluation = dict(interval=1, metric='bbox')
'''


@pytest.mark.slow
def test_user_swin_cascade_trains_from_a_release_file_and_evaluates(tmp_path, monkeypatch):
    # the release file, in the hub cache the tools look in
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    hub = tmp_path / "torch_home" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    torch.manual_seed(0)
    release = SwinTransformer(**SWIN)
    release.init_weights()
    torch.save({"model": original_layout(release)}, hub / URL.rsplit("/", 1)[1])

    make_shapes(tmp_path / "data", num_train=12, num_val=4)
    me = make_config_tree(tmp_path, tmp_path / "data")
    (me / "cascade_rcnn_swin-t_fpn_tiny_shapes.py").write_text(USER_CONFIG.format(url=URL,
                                                                                  **SWIN))
    result = run("train.py", CONFIG, "--work-dir", "work", "--seed", "0", cwd=tmp_path)
    assert f"load SwinTransformer from: {URL}" in result.stderr
    work = tmp_path / "work"
    train = log_entries(json_logs(work)[-1], "train")
    assert len(train) == 6  # 1 epoch of 6 batches
    losses = [e["loss"] for e in train]
    assert sum(losses[-2:]) < 0.8 * sum(losses[:2]), losses  # measured: 3.13, 2.97 -> 1.37, 1.05
    assert len(log_entries(json_logs(work)[-1], "val")) == 1

    # the frozen stem and first stage still hold the release file's weights
    saved = torch.load(work / "latest.pth", map_location="cpu", weights_only=False)["state_dict"]
    converted = swin_converter(original_layout(release))
    for key in ("backbone.patch_embed.projection.weight",
                "backbone.stages.0.blocks.0.attn.w_msa.qkv.weight",
                "backbone.stages.0.downsample.reduction.weight"):
        assert torch.equal(saved[key], converted[key]), key
    assert not torch.equal(saved["backbone.stages.1.blocks.0.attn.w_msa.qkv.weight"],
                           converted["backbone.stages.1.blocks.0.attn.w_msa.qkv.weight"])

    result = run("test.py", CONFIG, str(work / "latest.pth"), "--eval", "bbox", cwd=tmp_path)
    metrics = printed_metrics(result.stdout)
    assert 0.0 <= metrics["bbox_mAP_50"] <= 1.0
