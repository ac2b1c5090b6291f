_base_ = './a.py'
