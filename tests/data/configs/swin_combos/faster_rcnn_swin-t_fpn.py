# Swin-T under faster_rcnn (MMDetection's zoo has no such config; state_dict manifest
# recorded with real MMDetection 2.28.2 in tests/data/mmdet_layouts/swin.json.gz).
_base_ = '../../../../configs/_base_/models/faster_rcnn_r50_fpn.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='SwinTransformer',
        pretrain_img_size=224,
        embed_dims=96,
        depths=[2, 2, 6, 2],
        num_heads=[3, 6, 12, 24],
        window_size=7,
        mlp_ratio=4,
        qkv_bias=True,
        qk_scale=None,
        drop_rate=0.,
        attn_drop_rate=0.,
        drop_path_rate=0.2,
        patch_norm=True,
        out_indices=(0, 1, 2, 3),
        with_cp=False,
        convert_weights=True,
        init_cfg=None),
    neck=dict(in_channels=[96, 192, 384, 768]))
