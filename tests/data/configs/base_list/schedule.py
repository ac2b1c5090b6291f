optimizer = dict(type='SGD', lr=0.01)
runner = dict(type='EpochBasedRunner', max_epochs=12)
