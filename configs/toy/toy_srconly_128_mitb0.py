# Source-only at half resolution (128x128 crops of the 256x128-resized toy
# images), as the sweeps of experiments.py train; used by the slow data test.
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb0.py',
    '../_base_/datasets/uda_toy_day_to_night_128x128.py',
    '../_base_/uda/dacs_srconly.py',
    '../_base_/schedules/toy.py',
]
model = dict(pretrained='pretrained/toy_mit_b0.pth')
toy_pretrained = dict(
    path='pretrained/toy_mit_b0.pth',
    config='configs/toy/toy_pretrain_mitb0.py')
name = 'toy_srconly_128_mitb0'
