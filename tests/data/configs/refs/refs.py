data_root = 'data/shapes/'
classes = ('circle', 'square')
data = dict(train=dict(ann_file='${data_root}annotations/train.json', classes='${classes}'))
work_dir = '${data.train.ann_file}.out'
