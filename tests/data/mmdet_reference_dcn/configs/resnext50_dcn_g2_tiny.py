# A ResNeXt-50 (4 groups of 4) with grouped DCN (v1, 2 deformable groups) in stages 3-4,
# as configs/gfl/gfl_x101_32x4d_fpn_dconv_c4-c5_* set it.
model = dict(
    type='ResNeXt',
    depth=50,
    groups=4,
    base_width=4,
    base_channels=8,
    num_stages=4,
    out_indices=(0, 1, 2, 3),
    norm_cfg=dict(type='BN', requires_grad=True),
    norm_eval=True,
    style='pytorch',
    dcn=dict(type='DCN', deform_groups=2, fallback_on_stride=False),
    stage_with_dcn=(False, False, True, True),
    init_cfg=None)
