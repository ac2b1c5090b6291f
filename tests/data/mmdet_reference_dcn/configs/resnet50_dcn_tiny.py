# A ResNet-50 with DCN (v1) in stages 2-4, as configs/dcn/*_dconv_c3-c5_* set it, at 8 base
# channels; stride 2 of each stage on the deformable conv2 (style='pytorch').
model = dict(
    type='ResNet',
    depth=50,
    base_channels=8,
    num_stages=4,
    out_indices=(0, 1, 2, 3),
    frozen_stages=-1,
    norm_cfg=dict(type='BN', requires_grad=True),
    norm_eval=True,
    style='pytorch',
    dcn=dict(type='DCN', deform_groups=1, fallback_on_stride=False),
    stage_with_dcn=(False, True, True, True),
    init_cfg=None)
