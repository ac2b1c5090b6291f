_base_ = './b.py'
