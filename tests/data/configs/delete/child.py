_base_ = './base.py'
optimizer = dict(_delete_=True, type='AdamW', lr=0.0001)
model = dict(neck=dict(in_channels=[64, 128]),
             extra=dict(_delete_=True, type='Thing'))
