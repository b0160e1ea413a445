"""Degenerate inputs give finite losses and gradients.

A fully block-masked image (all pixels 0) fed to a from-scratch MiT used to
give NaN gradients: every activation is 0, every LayerNorm sees a
zero-variance input and the backward gains of ~1e3 each overflow float32.
"""
import pytest
import torch

from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from uda_fixtures import optim_wrapper_for, sample_batch, tiny_model_cfg

register_all_modules()


def _segmentor(hrda=False, bias=0.0):
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(hrda=hrda))
    model.init_weights()
    if bias:
        with torch.no_grad():
            for name, p in model.backbone.named_parameters():
                if name.endswith('bias'):
                    p.add_(bias * torch.randn_like(p))
    return model.train()


def _backward(model, batch):
    torch.manual_seed(1)  # the same stochastic depth draws
    model.zero_grad()
    losses = model.forward_train(batch['img'], batch['img_metas'],
                                 batch['gt_semantic_seg'])
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    loss.backward()
    return loss, {n: p.grad.clone() for n, p in model.named_parameters()
                  if p.grad is not None}


def _nonfinite(grads):
    return [n for n, g in grads.items() if not torch.isfinite(g).all()]


@pytest.mark.parametrize('hrda', [False, True])
def test_blank_sample_into_untrained_mit_has_finite_gradients(hrda):
    model = _segmentor(hrda)
    batch = sample_batch(2, 64)
    batch['img'][1] = 0
    assert model.backbone.degenerate_samples(batch['img']).tolist() == [
        False, True]
    loss, grads = _backward(model, batch)
    assert torch.isfinite(loss)
    assert _nonfinite(grads) == []
    assert grads['backbone.patch_embed1.proj.weight'].abs().sum() > 0


def test_guard_changes_nothing_without_a_blank_sample():
    model = _segmentor()
    batch = sample_batch(2, 64)
    loss, grads = _backward(model, batch)
    model.backbone.degenerate_samples = lambda x: None  # no guard at all
    ref_loss, ref_grads = _backward(model, batch)
    assert torch.equal(loss, ref_loss)
    assert grads.keys() == ref_grads.keys()
    assert all(torch.equal(grads[n], ref_grads[n]) for n in grads)


def test_blank_sample_still_trains_an_encoder_with_nonzero_biases():
    """Pretrained-like weights: a blank image is not degenerate."""
    model = _segmentor(bias=0.01)
    batch = sample_batch(1, 64)
    batch['img'].zero_()
    assert not model.backbone.degenerate_samples(batch['img']).any()
    _, grads = _backward(model, batch)
    assert _nonfinite(grads) == []
    assert grads['backbone.patch_embed1.norm.weight'].abs().sum() > 0


def _eglp(mode):
    cfg = dict(
        type='EGLP', model=tiny_model_cfg(hrda=True), max_iters=10,
        alpha=0.9, pseudo_threshold=0.5,
        dms=dict(type='DMS', mode=mode, k=2, ramp_iters=0,
                 similarity=dict(metric='lpips', ema=0.9, lpips=dict(
                     type='LPIPS', pretrained=False))),
        prompt_policy=dict(mask_prob=1.0))
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _step(model, batch):
    """Log and the gradients just before the optimiser step."""
    wrapper = optim_wrapper_for(model)
    grads = {}
    step = wrapper.step

    def checked_step(**kwargs):
        grads.update({n: p.grad.clone() for n, p in model.named_parameters()
                      if p.grad is not None})
        step(**kwargs)

    wrapper.step = checked_step
    model.request_debug()
    torch.manual_seed(2)
    log = model.train_step(batch, wrapper)
    return log, grads


def _uda_batch(label_fill=None):
    """``label_fill``: every source and prompt label becomes this value."""
    data = dict(source=sample_batch(seed=1),
                target=sample_batch(labelled=False, seed=2),
                prompt=sample_batch(seed=3))
    if label_fill is not None:
        for key in ('source', 'prompt'):
            data[key]['gt_semantic_seg'][:] = label_fill
    return data


@pytest.mark.parametrize('mode,label_fill', [
    ('soft', None),
    ('hard_pig', 255),  # all labels ignored
    ('soft', 0),  # every other class empty
])
def test_eglp_step_with_a_fully_masked_prompt_mixture(mode, label_fill):
    """64 px AMS blocks on 64 px crops blank whole samples (p = 0.7 each)."""
    model = _eglp(mode)
    log, grads = _step(model, _uda_batch(label_fill))
    masked = model.pop_debug()['prompt_mix_img']
    assert (masked.flatten(1) == 0).all(1).any(), 'no blank sample drawn'
    assert [k for k, v in log.items() if not torch.isfinite(v).all()] == []
    nfnet = {n for n in grads if n.startswith('nfnet.')}
    assert nfnet and _nonfinite(grads) == []
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_mic_step_with_a_fully_masked_target():
    """MIC's masked image consistency meets the same blank input."""
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='DACS', model=tiny_model_cfg(), max_iters=10, alpha=0.9,
        pseudo_threshold=None, mask_mode='separatetrgaug', mask_lambda=1.0,
        mask_generator=dict(type='block', mask_ratio=1.0,
                            mask_block_size=64)))
    model.init_weights()
    log, grads = _step(model, _uda_batch())
    assert log['masked.decode.loss_seg'] > 0
    assert [k for k, v in log.items() if not torch.isfinite(v).all()] == []
    assert grads and _nonfinite(grads) == []
