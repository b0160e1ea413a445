# HRDA (multi-resolution DACS) on the toy data: 256x256 training crops with a
# 0.5-scale context view and 128x128 detail crops; slide inference.
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb0.py',
    '../_base_/datasets/uda_toy_day_to_night_256x256.py',
    '../_base_/uda/dacs.py',
    '../_base_/schedules/toy.py',
]
model = dict(
    type='HRDAEncoderDecoder',
    decode_head=dict(
        type='HRDAHead',
        single_scale_head='DAFormerHead',
        attention_classwise=True,
        hr_loss_weight=0.1),
    scales=[1, 0.5],
    hr_crop_size=[128, 128],
    feature_scale=0.5,
    crop_coord_divisible=8,
    hr_slide_inference=True,
    test_cfg=dict(
        mode='slide', batched_slide=True, stride=[128, 128],
        crop_size=[256, 256]))
uda = dict(alpha=0.99)
name = 'toy_hrda_daformer_mitb0'
