"""The DACS/HRDA/MIC training step with tiny models."""
import io

import pytest
import torch

from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from uda_fixtures import optim_wrapper_for, tiny_model_cfg, uda_batch

register_all_modules()


def build(hrda=False, **kwargs):
    cfg = dict(type='DACS', model=tiny_model_cfg(hrda), max_iters=10,
               alpha=0.9, **kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def param_ids(module):
    return {id(p) for p in module.parameters()}


def test_teacher_and_imnet_are_frozen_and_not_optimised():
    model = build(imnet_feature_dist_lambda=0.005,
                  imnet_feature_dist_classes=[6, 7, 11, 12, 13])
    wrapper = optim_wrapper_for(model)
    optimised = {id(p) for g in wrapper.optimizer.param_groups
                 for p in g['params']}
    assert optimised == param_ids(model.model)
    log = model.train_step(uda_batch(), wrapper)
    assert 'src.loss_imnet_feat_dist' in log and 'mix.decode.loss_seg' in log
    assert 0 <= log['pseudo.confident_fraction'].item() <= 1
    assert 0 <= log['pseudo.weight'].item() <= 1
    frozen = list(model.teacher.parameters()) + list(
        model.feature_distance.parameters())
    assert all(p.grad is None and not p.requires_grad for p in frozen)
    assert any(p.grad is not None for p in model.model.parameters())


def test_teacher_follows_ema_of_student():
    model = build()
    wrapper = optim_wrapper_for(model)
    model.train_step(uda_batch(), wrapper)  # t=0: teacher := student
    before = [p.detach().clone() for p in model.teacher.parameters()]
    student = [p.detach().clone() for p in model.model.parameters()]
    model.train_step(uda_batch(), wrapper)  # t=1: alpha_1 = min(0.5, 0.9)
    for t, s, new in zip(before, student, model.teacher.parameters()):
        assert torch.allclose(new, 0.5 * t + 0.5 * s, atol=1e-6)
    assert model.iteration == 2


def test_iteration_is_in_the_state_dict():
    model = build()
    model.train_step(uda_batch(), optim_wrapper_for(model))
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    fresh = build()
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert fresh.iteration == 1


def test_source_only_has_no_teacher_and_no_target_loss():
    model = build(source_only=True)
    log = model.train_step(uda_batch(), optim_wrapper_for(model))
    assert model.teacher is None
    assert not any(k.startswith('mix.') for k in log)


@pytest.mark.parametrize('hrda', [False, True])
def test_mic_adds_masked_losses(hrda):
    model = build(hrda=hrda, mask_mode='separate', mask_lambda=1,
                  mask_generator=dict(type='block', mask_ratio=0.7,
                                      mask_block_size=16))
    log = model.train_step(uda_batch(), optim_wrapper_for(model))
    assert 'masked.decode.loss_seg' in log
    if hrda:
        assert 'mix.decode.hr.loss_seg' in log


def test_plugins_are_called_in_order():
    model = build(extra_losses=[dict(type='EntropyBalance')],
                  mixer=dict(type='GroupedClassMix', mix_loss_weight=0.8))
    log = model.train_step(uda_batch(), optim_wrapper_for(model))
    assert 'eb.loss_eb' in log and 'mix.decode.loss_seg' in log


def test_unknown_plugin_key_is_named():
    with pytest.raises(TypeError, match='pseudo_treshold'):
        build(pseudo_treshold=0.9)


def test_evaluation_uses_the_student():
    model = build()
    batch = uda_batch()['source']
    model.eval()
    with torch.no_grad():
        out = model.val_step(batch)
        ref = model.model.val_step(batch)
    assert torch.equal(out[0]['pred_sem_seg'], ref[0]['pred_sem_seg'])
