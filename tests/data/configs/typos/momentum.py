_base_ = '../../../../configs/_base_/schedules/schedule_1x.py'
optimizer = dict(momentun=0.95)
lr_config = dict(stpe=[8])
