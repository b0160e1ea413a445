# HRDA multi-resolution model of the final HRDA config, on top of DAFormer
# (daformer_sepaspp_mitb5.py). Experiment configs list this file INSTEAD of
# the DAFormer model base: mmengine refuses the same key ('model') in two
# files of one `_base_` list, so
#   _base_ = ['../_base_/models/hrda_wrapper.py', <datasets>, <uda>, ...]
# For another single-scale model, inherit from it and repeat the keys below.
# The segmentor becomes HRDAEncoderDecoder: an LR context branch (scale 0.5)
# and a 512x512 HR detail crop (scale 1), fused by HRDAHead's learned
# class-wise scale attention; inference slides 1024x1024 windows.
_base_ = ['daformer_sepaspp_mitb5.py']

model = dict(
    type='HRDAEncoderDecoder',
    decode_head=dict(
        type='HRDAHead',
        single_scale_head='DAFormerHead',
        attention_classwise=True,
        hr_loss_weight=0.1),
    scales=[1, 0.5],
    hr_crop_size=[512, 512],
    feature_scale=0.5,
    crop_coord_divisible=8,
    hr_slide_inference=True,
    test_cfg=dict(
        mode='slide',
        batched_slide=True,
        stride=[512, 512],
        crop_size=[1024, 1024]))
