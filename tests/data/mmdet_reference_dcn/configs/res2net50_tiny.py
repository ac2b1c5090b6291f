# A Res2Net-50 (4 scales of width planes / 2) at 8 base channels, as configs/res2net/ set it.
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
    init_cfg=None)
