# Small HRDA (MiT-b0 DAFormer, 64 channels) sized for the 256x256 toy crops:
# 0.5-scale context view, 128x128 detail crops, 256x256 slide windows.
_base_ = ['daformer_sepaspp_mitb0.py']
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
