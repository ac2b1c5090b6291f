a = dict(x=1, y=dict(z=2))
origin = 'sub'
