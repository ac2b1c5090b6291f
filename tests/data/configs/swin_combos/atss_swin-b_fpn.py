# Swin-B under atss (MMDetection's zoo has no such config; state_dict manifest
# recorded with real MMDetection 2.28.2 in tests/data/mmdet_layouts/swin.json.gz).
_base_ = '../../../../configs/_base_/models/atss_r50_fpn.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='SwinTransformer',
        pretrain_img_size=384,
        embed_dims=128,
        depths=[2, 2, 18, 2],
        num_heads=[4, 8, 16, 32],
        window_size=12,
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
    neck=dict(in_channels=[128, 256, 512, 1024]))
