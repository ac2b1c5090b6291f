grad_clip = None
