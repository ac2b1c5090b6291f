_base_ = '../../../../configs/_base_/schedules/schedule_1x.py'
lr_cofig = dict(policy='step', step=[16, 22])
