import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmseg.models.decode_heads.hrda_head import HRDAHead
from mmseg.models.losses.cross_entropy import weighted_cross_entropy
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

register_all_modules()

NORM = dict(type='BN', requires_grad=True)
SEPASPP = dict(type='aspp', sep=True, dilations=(1, 6, 12, 18), pool=False,
               act_cfg=dict(type='ReLU'), norm_cfg=NORM)
MLP = dict(type='mlp', act_cfg=None, norm_cfg=None)


def daformer_cfg(in_channels=(64, 128, 320, 512), channels=256,
                 fusion=SEPASPP, num_classes=19):
    return dict(
        type='DAFormerHead', in_channels=list(in_channels),
        in_index=[0, 1, 2, 3], channels=channels, dropout_ratio=0.1,
        num_classes=num_classes, norm_cfg=NORM, align_corners=False,
        decoder_params=dict(embed_dims=channels, embed_cfg=MLP,
                            embed_neck_cfg=MLP, fusion_cfg=fusion),
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                         loss_weight=1.0))


TINY_IN = (8, 16, 24, 32)


def tiny_feats(b=2, size=16):
    return [torch.randn(b, c, size // 2**i, size // 2**i)
            for i, c in enumerate(TINY_IN)]


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_daformer_sepaspp_head_has_3_71m_parameters():
    with torch.device('meta'):
        head = MODELS.build(daformer_cfg())
    assert round(n_params(head) / 1e6, 2) == 3.71


def test_hrda_head_attention_head_has_0_53m_parameters():
    with torch.device('meta'):
        head = MODELS.build(dict(daformer_cfg(), type='HRDAHead',
                                 single_scale_head='DAFormerHead',
                                 scales=[0.5, 1]))
    assert round(n_params(head.scale_attention) / 1e6, 2) == 0.53
    assert round(n_params(head.head) / 1e6, 2) == 3.71
    assert not hasattr(head, 'conv_seg')


def test_daformer_head_module_names_and_output():
    head = MODELS.build(daformer_cfg(TINY_IN, channels=16))
    keys = set(head.state_dict())
    assert {'embed_layers.0.proj.weight', 'embed_layers.3.proj.bias',
            'fuse_layer.aspp_modules.0.conv.weight',
            'fuse_layer.aspp_modules.0.bn.running_mean',
            'fuse_layer.aspp_modules.1.depthwise_conv.conv.weight',
            'fuse_layer.aspp_modules.3.pointwise_conv.bn.weight',
            'fuse_layer.bottleneck.conv.weight', 'conv_seg.weight',
            'conv_seg.bias'} <= keys
    dw = head.fuse_layer.aspp_modules[2].depthwise_conv.conv
    assert dw.dilation == (12, 12) and dw.groups == 64
    assert head(tiny_feats()).shape == (2, 19, 16, 16)


def test_daformer_head_conv_fusion_variant():
    fusion = dict(type='conv', kernel_size=1, act_cfg=dict(type='ReLU'),
                  norm_cfg=NORM)
    head = MODELS.build(daformer_cfg(TINY_IN, channels=16, fusion=fusion))
    assert 'fuse_layer.conv.weight' in head.state_dict()
    assert head(tiny_feats(1)).shape == (1, 19, 16, 16)


def test_base_head_loss_is_weighted_ce_over_all_pixels_and_accuracy():
    head = MODELS.build(daformer_cfg(TINY_IN, channels=16, num_classes=3))
    logits = torch.randn(1, 3, 2, 2)
    label = torch.tensor([[[[0, 1, 2, 255], [1, 1, 0, 2], [2, 2, 2, 2],
                            [0, 0, 0, 0]]]])
    weight = torch.rand(1, 4, 4)
    losses = head.losses(logits, label, weight)
    up = F.interpolate(logits, size=(4, 4), mode='bilinear',
                       align_corners=False)
    ce = F.cross_entropy(up, label[:, 0], reduction='none', ignore_index=255)
    assert losses['loss_seg'].item() == pytest.approx(
        (ce * weight).sum().item() / 16, rel=1e-5)
    valid = label[:, 0] != 255
    acc = ((up.argmax(1) == label[:, 0]) & valid).sum() / valid.sum() * 100
    assert losses['acc_seg'].item() == pytest.approx(acc.item(), rel=1e-5)


def test_weighted_ce_without_weight_averages_including_ignored():
    logits = torch.randn(1, 2, 1, 2)
    label = torch.tensor([[[0, 255]]])
    expected = F.cross_entropy(logits[..., :1], label[..., :1]) / 2
    assert weighted_cross_entropy(logits, label).item() == pytest.approx(
        expected.item(), rel=1e-5)


def test_segformer_head_names_and_output():
    head = MODELS.build(dict(
        type='SegFormerHead', in_channels=list(TINY_IN), in_index=[0, 1, 2, 3],
        channels=8, dropout_ratio=0.1, num_classes=19, norm_cfg=NORM,
        align_corners=False,
        decoder_params=dict(embed_dim=12, conv_kernel_size=1)))
    keys = set(head.state_dict())
    assert {'linear_c.0.proj.weight', 'linear_c.3.proj.weight',
            'linear_fuse.conv.weight', 'linear_fuse.bn.weight',
            'linear_pred.weight', 'conv_seg.weight'} <= keys
    assert head(tiny_feats()).shape == (2, 19, 16, 16)


def dlv2_cfg(**kw):
    return dict(type='DLV2Head', in_channels=16, in_index=3,
                dilations=(1, 2), num_classes=5, align_corners=False, **kw)


def test_dlv2_head_sums_dilated_branches():
    head = MODELS.build(dlv2_cfg())
    head.init_weights()
    assert not hasattr(head, 'conv_seg')
    assert {'aspp_modules.0.conv.weight', 'aspp_modules.0.conv.bias',
            'aspp_modules.1.conv.weight'} <= set(head.state_dict())
    x = torch.randn(1, 16, 6, 6)
    out = head([None, None, None, x])
    expected = head.aspp_modules[0](x) + head.aspp_modules[1](x)
    assert torch.allclose(out, expected)
    assert head.aspp_modules[1].conv.dilation == (2, 2)
    with pytest.raises(ValueError, match='channels'):
        MODELS.build(dlv2_cfg(channels=4))


class FirstLevel(nn.Module):
    """Stand-in single-scale head: returns the first feature map as logits."""

    def forward(self, feats):
        return feats[0]


def hrda_head(fixed_attention=None, **kw):
    head = MODELS.build(dict(
        daformer_cfg(TINY_IN, channels=16, num_classes=3), type='HRDAHead',
        single_scale_head='DAFormerHead', scales=[0.5, 1],
        attention_embed_dim=8, fixed_attention=fixed_attention, **kw))
    return head


def test_hrda_fusion_with_crop_box_follows_spec_formula():
    head = hrda_head(fixed_attention=0.25, enable_hr_crop=True)
    head.head = FirstLevel()
    lr_value, hr_value = 2.0, -6.0
    lr = torch.full((1, 3, 8, 8), lr_value)      # LR logits: 32x32 LR image
    hr = torch.full((1, 3, 8, 8), hr_value)      # HR crop of 32x32 pixels
    box = (16, 48, 8, 40)                        # in 64x64 HR pixels
    fused, lr_seg, hr_seg = head([[lr], [hr]], crop_box=box)
    assert fused.shape == (1, 3, 16, 16)
    assert torch.equal(hr_seg, hr)
    # attention is masked to box / (os / lr_scale) = box / 8 on the LR grid
    mask = torch.zeros(1, 1, 8, 8)
    mask[:, :, 2:6, 1:5] = 1
    assert torch.allclose(lr_seg, (1 - 0.25 * mask) * lr)
    # inside the HR region (box / 4 = rows 4:12, cols 2:10), away from the
    # bilinear border band: (1 - a) * lr + a * hr
    inside = fused[:, :, 5:11, 3:9]
    assert torch.allclose(inside, torch.full_like(
        inside, 0.75 * lr_value + 0.25 * hr_value))
    # far outside the box: the upsampled LR prediction
    assert torch.allclose(fused[:, :, :3], torch.full_like(
        fused[:, :, :3], lr_value))
    assert torch.allclose(fused[:, :, :, 12:], torch.full_like(
        fused[:, :, :, 12:], lr_value))


def test_hrda_fusion_without_box_matches_formula_everywhere():
    head = hrda_head(fixed_attention=0.4)
    head.head = FirstLevel()
    lr, hr = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 8, 8)
    fused, lr_seg, _ = head([[lr], [hr]])
    up = F.interpolate(0.6 * lr, scale_factor=2, mode='bilinear',
                       align_corners=False)
    assert torch.allclose(fused, up + 0.4 * hr, atol=1e-6)
    assert torch.allclose(lr_seg, 0.6 * lr)


@pytest.mark.parametrize('a', [0.0, 1.0])
def test_hrda_fixed_attention_extremes_select_one_scale(a):
    head = hrda_head(fixed_attention=a)
    head.head = FirstLevel()
    lr, hr = torch.randn(1, 3, 4, 4), torch.randn(1, 3, 8, 8)
    fused = head([[lr], [hr]])[0]
    expected = hr if a == 1.0 else F.interpolate(
        lr, scale_factor=2, mode='bilinear', align_corners=False)
    assert torch.allclose(fused, expected, atol=1e-6)


@pytest.mark.parametrize('classwise,channels', [(True, 3), (False, 1)])
def test_hrda_learned_scale_attention_is_sigmoid_of_lr_head(
        classwise, channels):
    head = hrda_head(attention_classwise=classwise).eval()
    feats = tiny_feats(2)
    att = head.get_scale_attention(feats)
    assert att.shape == (2, channels, 16, 16)
    assert torch.allclose(att, torch.sigmoid(head.scale_attention(feats)))
    assert 'scale_attention.fuse_layer.conv.weight' in head.state_dict()


def test_hrda_slide_windows_are_averaged_into_one_canvas():
    head = hrda_head(fixed_attention=1.0)
    head.head = FirstLevel()
    b = 2
    # two 32-px windows overlapping by 16 px on a 32x48 HR image (os 4)
    w1, w2 = torch.full((b, 3, 8, 8), 1.0), torch.full((b, 3, 8, 8), 3.0)
    hr = {'features': [torch.cat([w1, w2])],
          'boxes': [(0, 32, 0, 32), (0, 32, 16, 48)]}
    out = head.decode_hr(hr, b)
    assert out.shape == (b, 3, 8, 12)
    assert torch.all(out[..., :4] == 1) and torch.all(out[..., 8:] == 3)
    assert torch.all(out[..., 4:8] == 2)


def test_hrda_losses_crop_label_and_weight_to_the_box():
    head = hrda_head(fixed_attention=0.5, enable_hr_crop=True,
                     hr_loss_weight=0.1)
    fused = torch.randn(1, 3, 4, 4)
    lr_seg = torch.randn(1, 3, 2, 2)
    hr_seg = torch.randn(1, 3, 2, 2)
    label = torch.randint(0, 3, (1, 1, 8, 8))
    weight = torch.rand(1, 8, 8)
    box = (0, 4, 4, 8)
    losses = head.losses((fused, lr_seg, hr_seg), label, weight, box)
    assert set(losses) == {'loss_seg', 'acc_seg', 'hr.loss_seg',
                           'hr.acc_seg'}

    def ce(logits, y, w):
        up = F.interpolate(logits, size=y.shape[-2:], mode='bilinear',
                           align_corners=False)
        return (F.cross_entropy(up, y[:, 0], reduction='none') * w).mean()

    assert losses['loss_seg'].item() == pytest.approx(
        0.9 * ce(fused, label, weight).item(), rel=1e-5)
    assert losses['hr.loss_seg'].item() == pytest.approx(
        0.1 * ce(hr_seg, label[..., 0:4, 4:8], weight[..., 0:4, 4:8]).item(),
        rel=1e-5)


def test_hrda_lr_loss_weight_adds_lr_term():
    head = hrda_head(fixed_attention=0.5, lr_loss_weight=0.2,
                     hr_loss_weight=0.1)
    out = (torch.randn(1, 3, 4, 4), torch.randn(1, 3, 2, 2),
           torch.randn(1, 3, 4, 4))
    losses = head.losses(out, torch.randint(0, 3, (1, 1, 8, 8)))
    assert {'lr.loss_seg', 'hr.loss_seg'} <= set(losses)
    base = MODELS.build(daformer_cfg(TINY_IN, channels=16, num_classes=3))
    full = base.losses(out[0], torch.zeros(1, 1, 8, 8, dtype=torch.long))
    assert 'lr.loss_seg' not in full


def test_hrda_forward_train_requires_box_when_cropping():
    head = hrda_head(fixed_attention=0.5, enable_hr_crop=True)
    with pytest.raises(ValueError, match='crop_box'):
        head.forward_train([tiny_feats(1), tiny_feats(1)], [{}],
                           torch.zeros(1, 1, 64, 64, dtype=torch.long), None)


def test_hrda_head_with_dlv2_has_output_stride_8():
    head = MODELS.build(dict(dlv2_cfg(), type='HRDAHead',
                             single_scale_head='DLV2Head', scales=[0.5, 1],
                             attention_classwise=False))
    assert head.os == 8
    assert head.scale_attention.num_classes == 1
    lr = [None, None, None, torch.randn(1, 16, 4, 4)]
    hr = [None, None, None, torch.randn(1, 16, 8, 8)]
    assert head([lr, hr])[0].shape == (1, 5, 8, 8)


def test_hrda_head_does_not_mutate_its_config():
    cfg = dict(daformer_cfg(TINY_IN, channels=16), type='HRDAHead',
               single_scale_head='DAFormerHead', scales=[0.5, 1])
    before = copy.deepcopy(cfg)
    assert isinstance(MODELS.build(cfg), HRDAHead)
    assert cfg == before
