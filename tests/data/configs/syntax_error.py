model = dict(type='X'
