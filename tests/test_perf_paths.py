"""Optimised paths give the results of the plain ones (fp32, tol 1e-5):
the fast dilated depthwise convolution of the sep-ASPP (against
``nn.Conv2d``), the DAFormer head and a whole UDA step with it, and the
fused AdamW default (against torch's per-parameter loop)."""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmseg.engine.optim_constructor import (TrainableOptimWrapperConstructor,
                                            use_fused_adam)
from mmseg.models.utils.depthwise_conv import DepthwiseConv2d
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from uda_fixtures import tiny_model_cfg, uda_batch

register_all_modules()
TOL = dict(rtol=1e-5, atol=1e-5)


def as_plain_convs(module: nn.Module) -> nn.Module:
    """A copy whose DepthwiseConv2d layers are plain nn.Conv2d."""
    plain = copy.deepcopy(module)
    for m in plain.modules():
        if isinstance(m, DepthwiseConv2d):
            m.__class__ = nn.Conv2d
    return plain


def assert_close_relative(a: torch.Tensor, b: torch.Tensor) -> None:
    scale = max(b.abs().max().item(), 1.0)
    assert (a - b).abs().max().item() <= 1e-5 * scale


@pytest.mark.parametrize('dilation,bias,channels_last', [
    (6, True, True), (6, True, False), (1, False, True), (3, False, False)])
def test_depthwise_conv_matches_conv2d(dilation, bias, channels_last):
    torch.manual_seed(0)
    conv = DepthwiseConv2d(8, 8, 3, padding=dilation, dilation=dilation,
                           groups=8, bias=bias)
    plain = as_plain_convs(conv)
    assert conv.fast_path(torch.zeros(1, 8, 4, 4))
    x = torch.randn(2, 8, 13, 11)
    if channels_last:  # the layout the token-to-map transpose gives
        x = x.contiguous(memory_format=torch.channels_last)
    outs, grads = [], []
    for m in (conv, plain):
        xi = x.clone().requires_grad_()
        y = m(xi)
        (y * torch.linspace(-1, 1, y.numel()).view_as(y)).sum().backward()
        outs.append(y)
        grads.append([xi.grad] + [p.grad for p in m.parameters()])
    torch.testing.assert_close(outs[0], outs[1], **TOL)
    for a, b in zip(*grads):
        assert_close_relative(a, b)
    assert conv.state_dict().keys() == plain.state_dict().keys()


def test_depthwise_conv_falls_back_outside_its_fast_path():
    conv = DepthwiseConv2d(4, 4, 3, stride=2, padding=1, groups=4)
    x = torch.randn(1, 4, 8, 8)
    assert not conv.fast_path(x)
    torch.testing.assert_close(conv(x), F.conv2d(x, conv.weight, conv.bias,
                                                 2, 1, 1, 4))
    pointwise = DepthwiseConv2d(4, 6, 1)
    assert not pointwise.fast_path(x)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert not DepthwiseConv2d(4, 4, 3, padding=1,
                                   groups=4).fast_path(x)


def test_sep_aspp_head_loss_and_gradients_match_plain_convolutions():
    torch.manual_seed(0)
    cfg = tiny_model_cfg()['decode_head']
    cfg['dropout_ratio'] = 0.
    head = MODELS.build(cfg).train()
    assert any(isinstance(m, DepthwiseConv2d) for m in head.modules())
    plain = as_plain_convs(head)
    feats = [torch.randn(2, c, 32 // s, 32 // s)
             for c, s in zip((32, 64, 160, 256), (1, 2, 4, 8))]
    # backbone maps come out of a token transpose: channels_last strides
    feats = [f.contiguous(memory_format=torch.channels_last) for f in feats]
    label = torch.randint(0, 19, (2, 1, 128, 128))
    results = []
    for m in (head, plain):
        inputs = [f.clone().requires_grad_() for f in feats]
        loss = m.losses(m(inputs), label)['loss_seg']
        loss.backward()
        results.append((loss, [i.grad for i in inputs] +
                        [p.grad for p in m.parameters()]))
    torch.testing.assert_close(results[0][0], results[1][0], **TOL)
    for a, b in zip(results[0][1], results[1][1]):
        assert_close_relative(a, b)


def plain_adamw_wrapper(model):
    return TrainableOptimWrapperConstructor(
        dict(optimizer=dict(type='AdamW', lr=1e-3, foreach=False)))(model)


def test_uda_step_losses_and_weights_match_the_plain_path():
    """A DACS step with the fast convolutions and fused AdamW against the
    same step with nn.Conv2d and torch's per-parameter AdamW loop."""
    torch.manual_seed(0)
    fast = MODELS.build(dict(type='DACS', model=tiny_model_cfg(),
                             max_iters=10, alpha=0.9))
    fast.init_weights()
    plain = as_plain_convs(fast)
    fast_wrapper = TrainableOptimWrapperConstructor(
        dict(optimizer=dict(type='AdamW', lr=1e-3)))(fast)
    assert fast_wrapper.optimizer.defaults['fused'] is True
    plain_wrapper = plain_adamw_wrapper(plain)
    assert not plain_wrapper.optimizer.defaults['fused']
    logs = []
    for model, wrapper in ((fast, fast_wrapper), (plain, plain_wrapper)):
        torch.manual_seed(1)  # same mixing masks and augmentation
        logs.append([model.train_step(uda_batch(), wrapper)
                     for _ in range(2)])
    for a, b in zip(*logs):
        for key in a:
            torch.testing.assert_close(a[key], b[key], **TOL)
    for (name, a), b in zip(fast.state_dict().items(),
                            plain.state_dict().values()):
        if torch.is_tensor(a) and a.is_floating_point():
            assert_close_relative(a, b)


def test_fused_adam_default_respects_explicit_settings():
    model = nn.Linear(2, 2)
    assert use_fused_adam(dict(type='AdamW'), model)
    assert use_fused_adam(dict(type=torch.optim.Adam), model)
    assert not use_fused_adam(dict(type='AdamW', foreach=False), model)
    assert not use_fused_adam(dict(type='AdamW', fused=False), model)
    assert not use_fused_adam(dict(type='SGD'), model)
    wrapper = TrainableOptimWrapperConstructor(
        dict(optimizer=dict(type='AdamW', lr=1e-3, fused=False)))(model)
    assert not wrapper.optimizer.defaults['fused']


@pytest.mark.parametrize('training', [True, False])
def test_block_residual_with_drop_path_matches_mmcv_drop_path(training):
    """One-pass residual + stochastic depth against ``x + DropPath(y)``."""
    from mmcv.cnn.bricks import DropPath
    from mmseg.models.backbones.mix_transformer import TransformerBlock
    block = TransformerBlock(16, 2, 4, True, 0., 0., 0.4, nn.LayerNorm, 2)
    block.train(training)
    reference = DropPath(0.4).train(training)
    x = torch.randn(8, 36, 16)
    y = torch.randn(8, 36, 16)
    results = []
    for add in (block.add_branch, lambda a, b: a + reference(b)):
        xi, yi = x.clone().requires_grad_(), y.clone().requires_grad_()
        torch.manual_seed(3)
        out = add(xi, yi)
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum() \
            .backward()
        results.append((out, xi.grad, yi.grad))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, **TOL)
    if training:  # some samples dropped, as with the reference
        assert (results[0][2].flatten(1).abs().sum(1) == 0).any()


def test_drop_path_follows_its_module_mode_not_the_blocks():
    """EMA teachers set only their stochastic layers to eval."""
    from mmseg.models.backbones.mix_transformer import TransformerBlock
    block = TransformerBlock(16, 2, 4, True, 0., 0., 0.9, nn.LayerNorm, 2)
    block.train()
    block.drop_path.eval()
    x, y = torch.randn(8, 4, 16), torch.randn(8, 4, 16)
    torch.testing.assert_close(block.add_branch(x, y), x + y)
