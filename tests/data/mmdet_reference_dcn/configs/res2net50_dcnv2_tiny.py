# A Res2Net-50 with DCNv2 in every split conv of stage 4, as
# configs/vfnet/vfnet_r2_101_fpn_mdconv_c3-c5_* set it (there: stages 2-4).
model = dict(
    type='Res2Net',
    depth=50,
    scales=4,
    base_width=4,
    base_channels=8,
    num_stages=4,
    out_indices=(0, 1, 2, 3),
    norm_cfg=dict(type='BN', requires_grad=True),
    norm_eval=True,
    dcn=dict(type='DCNv2', deform_groups=1, fallback_on_stride=False),
    stage_with_dcn=(False, False, False, True),
    init_cfg=None)
