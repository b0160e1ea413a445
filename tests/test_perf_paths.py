"""Optimised paths give the results of the plain ones (fp32, tol 1e-5):
the DAFormer head's contiguous embedded maps (against the transposed
views), one-pass residual + stochastic depth (against mmcv's DropPath), a
whole UDA step with them, and the fused AdamW default (against torch's
per-parameter loop)."""
import contextlib
import copy

import pytest
import torch
import torch.nn as nn

import mmseg.models.decode_heads.daformer_head as daformer_head
from mmseg.engine.optim_constructor import (TrainableOptimWrapperConstructor,
                                            use_fused_adam)
from mmseg.models.backbones.mix_transformer import TransformerBlock
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from uda_fixtures import tiny_model_cfg, uda_batch

register_all_modules()
TOL = dict(rtol=1e-5, atol=1e-5)


def transposed_view(tokens: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The straightforward token-to-map: a channels_last-strided view."""
    b, _, h, w = like.shape
    return tokens.transpose(1, 2).reshape(b, -1, h, w)


@contextlib.contextmanager
def plain_paths():
    """The code before the optimisations: transposed views into the head's
    fusion, ``x + DropPath(branch)`` in the MiT blocks."""
    saved = daformer_head.embedded_map, TransformerBlock.add_branch
    daformer_head.embedded_map = transposed_view
    TransformerBlock.add_branch = lambda self, x, b: x + self.drop_path(b)
    try:
        yield
    finally:
        daformer_head.embedded_map, TransformerBlock.add_branch = saved


def assert_close_relative(a: torch.Tensor, b: torch.Tensor) -> None:
    scale = max(b.abs().max().item(), 1.0)
    assert (a - b).abs().max().item() <= 1e-5 * scale


def tiny_head_and_features():
    torch.manual_seed(0)
    cfg = tiny_model_cfg()['decode_head']
    cfg['dropout_ratio'] = 0.
    head = MODELS.build(cfg).train()
    feats = [torch.randn(2, c, 32 // s, 32 // s)
             for c, s in zip((32, 64, 160, 256), (1, 2, 4, 8))]
    return head, feats


def test_daformer_head_fuses_contiguous_nchw_maps():
    """The sep-ASPP's depthwise convolutions get an NCHW map."""
    head, feats = tiny_head_and_features()
    embedded = head.embed(feats)
    assert all(x.is_contiguous() for x in embedded)
    assert torch.cat(embedded, 1).is_contiguous()
    with plain_paths():  # what the transposed view gave
        assert not head.embed(feats)[0].is_contiguous()


def test_sep_aspp_head_loss_and_gradients_match_the_plain_path():
    head, feats = tiny_head_and_features()
    label = torch.randint(0, 19, (2, 1, 128, 128))
    results = []
    for plain in (False, True):
        inputs = [f.clone().requires_grad_() for f in feats]
        m = copy.deepcopy(head)
        with plain_paths() if plain else contextlib.nullcontext():
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
    """Two DACS steps with the optimised paths and fused AdamW against the
    same steps on the plain paths with torch's per-parameter AdamW loop."""
    torch.manual_seed(0)
    fast = MODELS.build(dict(type='DACS', model=tiny_model_cfg(),
                             max_iters=10, alpha=0.9))
    fast.init_weights()
    plain = copy.deepcopy(fast)
    fast_wrapper = TrainableOptimWrapperConstructor(
        dict(optimizer=dict(type='AdamW', lr=1e-3)))(fast)
    assert fast_wrapper.optimizer.defaults['fused'] is True
    plain_wrapper = plain_adamw_wrapper(plain)
    assert not plain_wrapper.optimizer.defaults['fused']
    logs = []
    for model, wrapper in ((fast, fast_wrapper), (plain, plain_wrapper)):
        torch.manual_seed(1)  # same mixing masks and augmentation
        with plain_paths() if model is plain else contextlib.nullcontext():
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
    block = TransformerBlock(16, 2, 4, True, 0., 0., 0.9, nn.LayerNorm, 2)
    block.train()
    block.drop_path.eval()
    x, y = torch.randn(8, 4, 16), torch.randn(8, 4, 16)
    torch.testing.assert_close(block.add_branch(x, y), x + y)


def test_class_argmax_equals_argmax_with_ties_and_nan():
    from mmseg.models.utils.class_argmax import class_argmax
    torch.manual_seed(0)
    scores = torch.randn(2, 19, 17, 23, requires_grad=True)
    tied = scores.detach().clone()
    tied[:, 5] = tied[:, 3]  # ties: the first maximal class wins
    tied[0, :, 0, 0] = 1.0
    tied[1, 7, 2, 2] = float('nan')
    for s in (scores, tied, tied.to(torch.bfloat16)):
        got = class_argmax(s)
        assert got.dtype == torch.int64 and not got.requires_grad
        assert torch.equal(got, s.argmax(1))
        assert torch.equal(class_argmax(s, keepdim=True),
                           s.argmax(1, keepdim=True))
    assert class_argmax(tied)[0, 0, 0] == 0 and class_argmax(tied)[1, 2, 2] == 7
