model = dict(type='RetinaNet', depth=50)
lr = 0.01
