_base_ = './base.py'
grad_clip = dict(max_norm=35)
