# Small HRDA (MiT-b0 DAFormer, 64 channels, as daformer_sepaspp_mitb0.py) sized
# for the 256x256 toy crops: 0.5-scale context view, 128x128 detail crops,
# 256x256 slide windows. The HRDA structure comes from hrda_wrapper.py.
_base_ = ['hrda_wrapper.py']
model = dict(
    pretrained=None,
    backbone=dict(type='mit_b0'),
    decode_head=dict(
        in_channels=[32, 64, 160, 256],
        channels=64,
        decoder_params=dict(embed_dims=64)),
    hr_crop_size=[128, 128],
    test_cfg=dict(stride=[128, 128], crop_size=[256, 256]))
