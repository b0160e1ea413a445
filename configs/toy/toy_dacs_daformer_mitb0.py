# DAFormer-style DACS self-training on the toy data.
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb0.py',
    '../_base_/datasets/uda_toy_day_to_night_256x256.py',
    '../_base_/uda/dacs.py',
    '../_base_/schedules/toy.py',
]
uda = dict(alpha=0.99)
name = 'toy_dacs_daformer_mitb0'
