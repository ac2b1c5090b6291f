model = dict(type='RetinaNet', num_classes=80)
