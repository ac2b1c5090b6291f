_base_ = './base.py'
grad_clip = dict(_delete_=True, max_norm=35)
