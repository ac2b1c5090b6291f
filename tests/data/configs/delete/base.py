optimizer = dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001)
model = dict(neck=dict(type='FPN', in_channels=[256, 512], out_channels=256))
