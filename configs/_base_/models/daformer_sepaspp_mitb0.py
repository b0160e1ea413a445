# Small DAFormer (MiT-B0, 64 channels) for tests and quick CPU runs;
# randomly initialised backbone.
_base_ = ['daformer_sepaspp_mitb5.py']

model = dict(
    pretrained=None,
    backbone=dict(type='mit_b0'),
    decode_head=dict(
        in_channels=[32, 64, 160, 256],
        channels=64,
        decoder_params=dict(embed_dims=64)))
