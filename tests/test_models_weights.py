import pytest
import torch

from mmseg.models.weights import (load_backbone_pretrained,
                                  load_segmentor_checkpoint)
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from mmseg.utils.checkpoint_io import CheckpointLoadError

register_all_modules()

NORM = dict(type='BN', requires_grad=True)


def daformer_b0(pretrained=None, hrda=False):
    head = dict(
        type='DAFormerHead', in_channels=[32, 64, 160, 256],
        in_index=[0, 1, 2, 3], channels=16, dropout_ratio=0.1, num_classes=4,
        norm_cfg=NORM, align_corners=False,
        decoder_params=dict(
            embed_dims=16, embed_cfg=dict(type='mlp'),
            embed_neck_cfg=dict(type='mlp'),
            fusion_cfg=dict(type='aspp', sep=True, dilations=(1, 6, 12, 18),
                            pool=False, act_cfg=dict(type='ReLU'),
                            norm_cfg=NORM)))
    cfg = dict(type='EncoderDecoder', pretrained=pretrained,
               backbone=dict(type='mit_b0', style='pytorch'),
               decode_head=head)
    if hrda:
        head.update(type='HRDAHead', single_scale_head='DAFormerHead',
                    attention_embed_dim=8, hr_loss_weight=0.1)
        cfg.update(type='HRDAEncoderDecoder', scales=[1, 0.5],
                   hr_crop_size=[32, 32], feature_scale=0.5)
    return MODELS.build(cfg)


def imagenet_mit_b0_checkpoint(path):
    """A file in the format of SegFormer's ImageNet MiT weights."""
    backbone = MODELS.build(dict(type='mit_b0'))
    backbone.init_weights()
    state = dict(backbone.state_dict())
    state['head.weight'] = torch.randn(1000, 256)
    state['head.bias'] = torch.zeros(1000)
    torch.save({'state_dict': state}, path)
    return backbone


def test_reference_key_names_of_daformer_and_hrda_segmentors():
    keys = set(daformer_b0().state_dict())
    assert {'backbone.patch_embed1.proj.weight',
            'backbone.block1.0.attn.sr.weight',
            'backbone.block2.1.mlp.dwconv.dwconv.bias',
            'backbone.norm4.weight',
            'decode_head.embed_layers.0.proj.weight',
            'decode_head.fuse_layer.aspp_modules.0.conv.weight',
            'decode_head.fuse_layer.aspp_modules.1.depthwise_conv.bn.weight',
            'decode_head.fuse_layer.aspp_modules.2.pointwise_conv.conv.weight',
            'decode_head.fuse_layer.bottleneck.bn.running_var',
            'decode_head.conv_seg.weight'} <= keys
    hrda_keys = set(daformer_b0(hrda=True).state_dict())
    assert {'decode_head.head.fuse_layer.bottleneck.conv.weight',
            'decode_head.head.conv_seg.bias',
            'decode_head.scale_attention.embed_layers.3.proj.weight',
            'decode_head.scale_attention.fuse_layer.conv.weight',
            'decode_head.scale_attention.fuse_layer.bn.weight',
            'decode_head.scale_attention.conv_seg.weight'} <= hrda_keys
    assert not any(k.startswith('decode_head.conv_seg') for k in hrda_keys)


def test_pretrained_imagenet_weights_load_into_backbone(tmp_path):
    path = str(tmp_path / 'mit_b0.pth')
    source = imagenet_mit_b0_checkpoint(path)
    model = daformer_b0(pretrained=path)
    model.init_weights()
    for k, v in source.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[k], v), k


def test_pretrained_backbone_with_missing_key_names_file_and_key(tmp_path):
    path = str(tmp_path / 'broken.pth')
    state = MODELS.build(dict(type='mit_b0')).state_dict()
    del state['block1.0.attn.q.weight']
    torch.save(state, path)
    with pytest.raises(CheckpointLoadError,
                       match=r'broken\.pth.*missing keys: block1\.0\.attn\.q'):
        load_backbone_pretrained(MODELS.build(dict(type='mit_b0')), path)


def test_remote_pretrained_is_refused_with_a_hint():
    with pytest.raises(CheckpointLoadError, match='download'):
        load_backbone_pretrained(MODELS.build(dict(type='mit_b0')),
                                 'open-mmlab://resnet50_v1c')


def test_segmentor_checkpoint_round_trip_is_strict_and_exact(tmp_path):
    source = daformer_b0().eval()
    path = str(tmp_path / 'model.pth')
    torch.save({'meta': {}, 'state_dict': source.state_dict()}, path)
    target = daformer_b0().eval()
    load_segmentor_checkpoint(target, path)
    img = torch.randn(1, 3, 64, 64)
    assert torch.equal(source.encode_decode(img, [{}]),
                       target.encode_decode(img, [{}]))


def test_uda_checkpoint_prefixes_are_stripped_and_teachers_ignored(tmp_path):
    source = daformer_b0(hrda=True)
    state = {}
    for k, v in source.state_dict().items():
        state[f'module.model.{k}'] = v
        state[f'module.ema_model.{k}'] = torch.zeros_like(v)
        state[f'module.imnet_model.{k}'] = torch.zeros_like(v)
    path = str(tmp_path / 'hrda_uda.pth')
    torch.save({'state_dict': state}, path)
    target = daformer_b0(hrda=True)
    loaded = load_segmentor_checkpoint(target, path)
    assert set(loaded) == set(source.state_dict())
    key = 'decode_head.scale_attention.conv_seg.weight'
    assert torch.equal(target.state_dict()[key], source.state_dict()[key])


def test_missing_checkpoint_file_is_named(tmp_path):
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(CheckpointLoadError, match='nope.pth'):
        load_segmentor_checkpoint(daformer_b0(), path)


def test_shape_mismatch_names_the_file_and_key(tmp_path):
    state = daformer_b0().state_dict()
    state['decode_head.conv_seg.weight'] = torch.zeros(19, 16, 1, 1)
    state['decode_head.conv_seg.bias'] = torch.zeros(19)
    path = str(tmp_path / 'classes19.pth')
    torch.save({'model': state}, path)
    with pytest.raises(CheckpointLoadError) as err:
        load_segmentor_checkpoint(daformer_b0(), path)
    assert 'classes19.pth' in str(err.value)
    assert 'decode_head.conv_seg.bias' in str(err.value)
    assert 'shape mismatch' in str(err.value)


def test_unexpected_keys_are_reported(tmp_path):
    state = dict(daformer_b0().state_dict())
    state['decode_head.extra.weight'] = torch.zeros(1)
    path = str(tmp_path / 'extra.pth')
    torch.save(state, path)
    with pytest.raises(CheckpointLoadError,
                       match='unexpected keys: decode_head.extra.weight'):
        load_segmentor_checkpoint(daformer_b0(), path)
