_base_ = './base.py'
model = dict(backbone=dict(depth=101))
steps = [16]
scale = (512, 512)
workflow = [('train', 1)]
optimizer = dict(lr=0.01)
