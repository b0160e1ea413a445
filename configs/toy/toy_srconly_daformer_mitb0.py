# Source-only baseline on the toy data (same data stream as the UDA configs).
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb0.py',
    '../_base_/datasets/uda_toy_day_to_night_256x256.py',
    '../_base_/uda/dacs_srconly.py',
    '../_base_/schedules/toy.py',
]
name = 'toy_srconly_daformer_mitb0'
