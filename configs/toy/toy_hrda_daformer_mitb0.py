# HRDA (multi-resolution DACS) on the toy data: 256x256 training crops with a
# 0.5-scale context view and 128x128 detail crops; slide inference.
_base_ = [
    '../_base_/models/hrda_daformer_sepaspp_mitb0.py',
    '../_base_/datasets/uda_toy_day_to_night_256x256.py',
    '../_base_/uda/dacs.py',
    '../_base_/schedules/toy.py',
]
# The backbone starts from MiT-B0 weights trained on a separate generated day
# set (the toy stand-in for ImageNet weights), created on first use.
model = dict(pretrained='pretrained/toy_mit_b0.pth')
toy_pretrained = dict(
    path='pretrained/toy_mit_b0.pth',
    config='configs/toy/toy_pretrain_mitb0.py')
uda = dict(alpha=0.99)
# Evaluate three times (iterations 200, 400, 600) so the run shows a trend.
evaluation = dict(interval=200, metric='mIoU')
# Printed last, beside this run's night val mIoU: the source-only config
# (configs/toy/toy_srconly_daformer_mitb0.py), seed 0, same schedule, measured
# on the current toy data (README "Toy data").
reference = dict(value=8.61, label='source-only, same seed',
                 source='README "Toy data"')
name = 'toy_hrda_daformer_mitb0'
