_base_ = './sub/base.py'
a = dict(y=dict(w=3))
origin = 'middle'
