_base_ = ['middle.py']
a = dict(x=10)
