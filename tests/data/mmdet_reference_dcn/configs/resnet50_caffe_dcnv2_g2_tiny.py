# A caffe-style ResNet-50 with DCNv2 (2 deformable groups) in stages 2-4, the last stage
# dilated instead of strided: stride-1 and dilation-2 modulated deformable convs.
model = dict(
    type='ResNet',
    depth=50,
    base_channels=8,
    num_stages=4,
    strides=(1, 2, 2, 1),
    dilations=(1, 1, 1, 2),
    out_indices=(0, 1, 2, 3),
    norm_cfg=dict(type='BN', requires_grad=False),
    norm_eval=True,
    style='caffe',
    dcn=dict(type='DCNv2', deform_groups=2, fallback_on_stride=False),
    stage_with_dcn=(False, True, True, True),
    init_cfg=None)
