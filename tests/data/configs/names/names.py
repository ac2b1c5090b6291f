import os
from math import pi


def helper(x):
    return x * 2


img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [dict(type='Normalize', **img_norm_cfg)]
data = dict(train=dict(pipeline=train_pipeline))
square = lambda v: v * v  # noqa: E731
doubled = helper(21)
_private = 'kept'
__dunder = 'dropped'
sep = os.sep
circle = round(pi, 2)
