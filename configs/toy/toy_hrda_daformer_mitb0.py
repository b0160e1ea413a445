# HRDA (multi-resolution DACS) on the toy data: 256x256 training crops with a
# 0.5-scale context view and 128x128 detail crops; slide inference.
_base_ = [
    '../_base_/models/hrda_daformer_sepaspp_mitb0.py',
    '../_base_/datasets/uda_toy_day_to_night_256x256.py',
    '../_base_/uda/dacs.py',
    '../_base_/schedules/toy.py',
]
uda = dict(alpha=0.99)
name = 'toy_hrda_daformer_mitb0'
