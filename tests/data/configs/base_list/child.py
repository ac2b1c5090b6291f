_base_ = ['./model.py', './schedule.py']
runner = dict(max_epochs=24)
