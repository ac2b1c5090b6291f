# The tiny Deformable DETR with box refinement and two-stage queries (tests, CPU experiments).
# (MMDetection 2.28 itself builds two-stage queries for embed_dims=256 only.)
_base_ = './deformable_detr_r18_tiny_50e_coco.py'
model = dict(bbox_head=dict(with_box_refine=True, as_two_stage=True,
                            transformer=dict(two_stage_num_proposals=50)))
