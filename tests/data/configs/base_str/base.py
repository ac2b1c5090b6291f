model = dict(type='FasterRCNN', backbone=dict(type='ResNet', depth=50, frozen_stages=1),
             neck=dict(type='FPN', num_outs=5))
optimizer = dict(type='SGD', lr=0.02, momentum=0.9)
steps = [8, 11]
scale = (1333, 800)
workflow = None
