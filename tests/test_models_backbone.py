import math

import pytest
import torch
import torch.nn as nn
from mmcv.cnn.bricks import DropPath

from mmseg.models.backbones.mix_transformer import (EfficientSelfAttention,
                                                    MixVisionTransformer)
from mmseg.models.backbones.resnet import ResNetV1c
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

register_all_modules()


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('name,depths,dims', [
    ('mit_b0', [2, 2, 2, 2], 32), ('mit_b1', [2, 2, 2, 2], 64),
    ('mit_b2', [3, 4, 6, 3], 64), ('mit_b3', [3, 4, 18, 3], 64),
    ('mit_b4', [3, 8, 27, 3], 64), ('mit_b5', [3, 6, 40, 3], 64)
])
def test_every_mit_variant_builds_from_registry(name, depths, dims):
    with torch.device('meta'):
        model = MODELS.build(dict(type=name, style='pytorch',
                                  pretrained=None, drop_path_rate=0.1))
    assert isinstance(model, MixVisionTransformer)
    assert [len(getattr(model, f'block{i}')) for i in range(1, 5)] == depths
    assert model.patch_embed1.proj.out_channels == dims


def test_mit_b5_has_81_44m_parameters():
    with torch.device('meta'):
        model = MODELS.build(dict(type='mit_b5'))
    assert round(n_params(model) / 1e6, 2) == 81.44


def test_mit_b0_forward_backward_returns_four_stage_maps():
    model = MODELS.build(dict(type='mit_b0'))
    model.init_weights()
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    outs = model(x)
    assert isinstance(outs, tuple)
    assert [tuple(o.shape) for o in outs] == [(2, 32, 16, 16),
                                              (2, 64, 8, 8), (2, 160, 4, 4),
                                              (2, 256, 2, 2)]
    sum(o.mean() for o in outs).backward()
    assert model.block4[1].mlp.fc2.weight.grad is not None
    assert x.grad is not None


def test_mit_state_dict_keys_follow_segformer():
    with torch.device('meta'):
        keys = set(MODELS.build(dict(type='mit_b0')).state_dict())
    expected = {
        'patch_embed1.proj.weight', 'patch_embed1.norm.weight',
        'block1.0.norm1.weight', 'block1.0.attn.q.weight',
        'block1.0.attn.kv.weight', 'block1.0.attn.sr.weight',
        'block1.0.attn.norm.weight', 'block1.0.attn.proj.weight',
        'block1.0.norm2.weight', 'block1.0.mlp.fc1.weight',
        'block1.0.mlp.dwconv.dwconv.weight', 'block1.0.mlp.fc2.weight',
        'norm1.weight', 'patch_embed4.proj.weight', 'block4.1.mlp.fc2.bias',
        'norm4.bias'
    }
    assert expected <= keys
    # stage 4 has sr_ratio 1: no reduction conv
    assert 'block4.0.attn.sr.weight' not in keys
    assert not any('head' in k for k in keys)


def test_layer_norm_eps_of_blocks_and_embeddings():
    with torch.device('meta'):
        model = MODELS.build(dict(type='mit_b0'))
    assert model.block1[0].norm1.eps == 1e-6
    assert model.norm1.eps == 1e-6
    assert model.patch_embed1.norm.eps == 1e-5
    assert model.block1[0].attn.norm.eps == 1e-5


def test_drop_path_is_linear_and_from_mmcv():
    with torch.device('meta'):
        model = MODELS.build(dict(type='mit_b0', drop_path_rate=0.7))
    blocks = [b for i in range(1, 5) for b in getattr(model, f'block{i}')]
    assert isinstance(blocks[0].drop_path, nn.Identity)
    assert all(isinstance(b.drop_path, DropPath) for b in blocks[1:])
    rates = [b.drop_path.drop_prob for b in blocks[1:]]
    assert rates == pytest.approx([0.1 * i for i in range(1, 8)])


def test_sdpa_attention_equals_explicit_softmax_formula():
    attn = EfficientSelfAttention(dim=16, num_heads=2, sr_ratio=2).eval()
    b, h, w = 2, 4, 6
    x = torch.randn(b, h * w, 16)
    out = attn(x, h, w)
    # explicit formula
    q = attn.q(x).reshape(b, h * w, 2, 8).permute(0, 2, 1, 3)
    x_ = attn.sr(x.transpose(1, 2).reshape(b, 16, h, w))
    x_ = attn.norm(x_.reshape(b, 16, -1).transpose(1, 2))
    kv = attn.kv(x_).reshape(b, -1, 2, 2, 8).permute(2, 0, 3, 1, 4)
    k, v = kv[0], kv[1]
    weights = ((q @ k.transpose(-2, -1)) * 8**-0.5).softmax(dim=-1)
    expected = attn.proj((weights @ v).transpose(1, 2).reshape(b, h * w, 16))
    assert torch.allclose(out, expected, atol=1e-5)


def test_scratch_init_trunc_normal_linear_and_fan_out_conv():
    model = MODELS.build(dict(type='mit_b0'))
    model.init_weights()
    fc1 = model.block1[0].mlp.fc1
    # timm/torch trunc_normal_ cut at +-2 (absolute), i.e. ~100 std here
    assert fc1.weight.std().item() == pytest.approx(0.02, rel=0.15)
    assert torch.all(fc1.bias == 0)
    conv = model.patch_embed1.proj  # fan_out = 7 * 7 * 32
    assert conv.weight.std().item() == pytest.approx(
        math.sqrt(2 / (7 * 7 * 32)), rel=0.1)
    dw = model.block1[0].mlp.dwconv.dwconv  # groups divide the fan-out
    assert dw.weight.std().item() == pytest.approx(math.sqrt(2 / 9), rel=0.1)


def test_resnet_v1c_keys_dilations_and_output_stride_8():
    model = ResNetV1c(depth=50, dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1),
                      contract_dilation=True, style='pytorch')
    keys = set(model.state_dict())
    assert {'stem.0.weight', 'stem.1.weight', 'stem.3.weight',
            'stem.4.running_mean', 'stem.6.weight', 'stem.7.bias',
            'layer1.0.conv1.weight', 'layer1.0.bn1.weight',
            'layer1.0.conv3.weight', 'layer1.0.bn3.weight',
            'layer1.0.downsample.0.weight', 'layer1.0.downsample.1.weight',
            'layer4.2.conv2.weight'} <= keys
    assert model.stem[0].weight.shape == (32, 3, 3, 3)
    assert model.layer3[0].conv2.dilation == (1, 1)  # contracted
    assert model.layer3[1].conv2.dilation == (2, 2)
    assert model.layer4[0].conv2.dilation == (2, 2)
    assert model.layer4[2].conv2.dilation == (4, 4)
    model.init_weights()
    outs = model(torch.randn(1, 3, 32, 32))
    assert [tuple(o.shape) for o in outs] == [(1, 256, 8, 8), (1, 512, 4, 4),
                                              (1, 1024, 4, 4),
                                              (1, 2048, 4, 4)]


def test_resnet_v1c_101_depth_and_registry_name():
    with torch.device('meta'):
        model = MODELS.build(dict(type='ResNetV1c', depth=101))
    assert len(model.layer3) == 23
    assert round(n_params(model) / 1e6, 2) == 42.52


def test_resnet_frozen_stages_and_norm_eval():
    model = ResNetV1c(depth=50, frozen_stages=1, norm_eval=True)
    model.train()
    assert not any(p.requires_grad for p in model.stem.parameters())
    assert not any(p.requires_grad for p in model.layer1.parameters())
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert not model.layer2[0].bn1.training


def test_resnet_rejects_bad_depth():
    with pytest.raises(ValueError, match='depth'):
        ResNetV1c(depth=42)
