# Swin-L under atss_dyhead (MMDetection's zoo has no such config; state_dict manifest
# recorded with real MMDetection 2.28.2 in tests/data/mmdet_layouts/swin.json.gz).
_base_ = '../../../../configs/dyhead/atss_swin-l-p4-w12_fpn_dyhead_mstrain_2x_coco.py'
model = dict(
    backbone=dict(
        type='SwinTransformer',
        pretrain_img_size=384,
        embed_dims=192,
        depths=[2, 2, 18, 2],
        num_heads=[6, 12, 24, 48],
        window_size=12,
        mlp_ratio=4,
        qkv_bias=True,
        qk_scale=None,
        drop_rate=0.,
        attn_drop_rate=0.,
        drop_path_rate=0.2,
        patch_norm=True,
        out_indices=(1, 2, 3),
        with_cp=False,
        convert_weights=True,
        init_cfg=None),
    neck=[
        dict(type='FPN', in_channels=[384, 768, 1536], out_channels=256, start_level=0,
             add_extra_convs='on_output', num_outs=5),
        dict(type='DyHead', in_channels=256, out_channels=256, num_blocks=6,
             zero_init_offset=False)
    ])
