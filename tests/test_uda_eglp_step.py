"""The EGLP step: NFNet and its teacher, fusion and prompt mixture."""
import pytest
import torch

from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from uda_fixtures import optim_wrapper_for, tiny_model_cfg, uda_batch

register_all_modules()


def build(mode='hard_pig', rcm=False, prompt_mixing=True, **dms_kwargs):
    cfg = dict(
        type='EGLP', model=tiny_model_cfg(hrda=True), max_iters=10,
        alpha=0.9, prompt_mixing=prompt_mixing, pseudo_threshold=0.5,
        dms=dict(type='DMS', mode=mode, k=2,
                 similarity=dict(metric='lpips', lpips=dict(
                     type='LPIPS', pretrained=False)), **dms_kwargs))
    if rcm:
        cfg['mix_augmenters'] = [dict(type='RCM', min_area=4, prob=1.0)]
    model = MODELS.build(cfg)
    model.init_weights()
    return model


@pytest.mark.parametrize('mode', ['hard_pig', 'soft'])
def test_nfnet_is_trained_and_teachers_are_not(mode):
    model = build(mode)
    wrapper = optim_wrapper_for(model)
    optimised = {id(p) for g in wrapper.optimizer.param_groups
                 for p in g['params']}
    expected = {id(p) for p in model.model.parameters()} | {
        id(p) for p in model.nfnet.parameters()}
    assert optimised == expected
    log = model.train_step(uda_batch(prompt=True), wrapper)
    for key in ('nf.prompt.decode.loss_seg', 'nf.mix.decode.loss_seg',
                'mix.decode.loss_seg'):
        assert key in log
    assert any(p.grad is not None for p in model.nfnet.parameters())
    for teacher in (model.teacher, model.nf_teacher):
        assert all(p.grad is None for p in teacher.parameters())


def test_nfnet_teacher_is_ema_of_nfnet():
    model = build()
    wrapper = optim_wrapper_for(model)
    model.train_step(uda_batch(prompt=True), wrapper)
    before = [p.detach().clone() for p in model.nf_teacher.parameters()]
    nfnet = [p.detach().clone() for p in model.nfnet.parameters()]
    model.train_step(uda_batch(prompt=True), wrapper)
    for t, s, new in zip(before, nfnet, model.nf_teacher.parameters()):
        assert torch.allclose(new, 0.5 * t + 0.5 * s, atol=1e-6)


def test_without_prompt_mixing_nfnet_sees_only_prompts():
    model = build(prompt_mixing=False)
    log = model.train_step(uda_batch(prompt=True), optim_wrapper_for(model))
    assert 'nf.prompt.decode.loss_seg' in log
    assert not any(k.startswith('nf.mix') for k in log)


def test_missing_prompt_data_is_a_clear_error():
    model = build()
    with pytest.raises(KeyError, match='data.train.prompt'):
        model.train_step(uda_batch(prompt=False), optim_wrapper_for(model))


def test_rcm_state_is_saved_with_the_model():
    model = build(rcm=True)
    model.train_step(uda_batch(prompt=True), optim_wrapper_for(model))
    state = model.state_dict()
    assert any('mix_augmenters.0' in k for k in state)


def test_soft_fusion_weight_follows_the_uda_threshold_by_default():
    shared = build('soft')
    assert shared.dms.labeler is shared.pseudo_labeler
    assert shared.dms.labeler.threshold == 0.5
    own = build('soft', threshold=0.9, weight_mode='pixel')
    assert own.dms.labeler is not own.pseudo_labeler
    assert (own.dms.labeler.threshold, own.dms.labeler.weight_mode) == (
        0.9, 'pixel')


@pytest.mark.parametrize('mode', ['hard_pig', 'soft'])  # PIG, EGLP
def test_step_logs_the_teachers_confident_fraction_before_fusion(
        mode, monkeypatch):
    """``pseudo.confident_fraction``: share of target pixels where the UDA
    teacher's max probability reaches the threshold (0.5 here), measured on
    its own labels before the NFNet fusion replaces them."""
    model = build(mode)
    predict = model.teacher.predict_logits

    def half_confident(img, img_metas):
        logits = torch.zeros_like(predict(img, img_metas))
        h = logits.shape[2]
        logits[:, 1, :h // 4] = 10.0  # a quarter of the rows: p ~ 0.99
        return logits

    monkeypatch.setattr(model.teacher, 'predict_logits', half_confident)
    fused = []
    fuse = model.dms.fuse
    monkeypatch.setattr(model.dms, 'fuse',
                        lambda *a: fused.append(fuse(*a)) or fused[-1])
    log = model.train_step(uda_batch(prompt=True), optim_wrapper_for(model))
    assert log['pseudo.confident_fraction'].item() == pytest.approx(0.25)
    assert len(fused) == 1 and fused[0].confident_fraction.item() == \
        pytest.approx(0.25)


def test_pseudo_labels_get_the_nfnet_logits_as_a_field(monkeypatch):
    """EGLP.pseudo_labels hands the NFNet teacher's logits to the fusion as
    an argument and keeps them in ``ctx.nfnet_logits`` (no string keys)."""
    model = build()
    seen = []
    fuse = model.dms.fuse

    def spy(ctx, pseudo, nfnet_logits):
        seen.append((ctx, nfnet_logits))
        return fuse(ctx, pseudo, nfnet_logits)

    monkeypatch.setattr(model.dms, 'fuse', spy)
    model.train_step(uda_batch(prompt=True), optim_wrapper_for(model))
    (ctx, logits), = seen
    assert ctx.nfnet_logits is logits and logits.dim() == 4
    assert ctx.strong_aug is not None and ctx.class_ranks is not None
    assert 'nfnet_logits' not in ctx.extras
    assert 'strong_aug_params' not in ctx.extras


def test_prompt_policy_follows_the_dms_mode_and_takes_old_dms_keys():
    assert build('hard_pig').prompt_policy.split == 0.5
    soft = build('soft')
    assert soft.prompt_policy.split == (0.3, 0.7)
    assert soft.prompt_policy.ams.mode == 'random'
    # keys older configs gave in uda.dms move to the policy
    old = build('soft', split_ratio_range=(0.4, 0.6), mask_prob=0.2)
    assert old.prompt_policy.split == (0.4, 0.6)
    assert old.prompt_policy.ams.p == 0.2
    with pytest.raises(ValueError, match='both set'):
        MODELS.build(dict(
            type='EGLP', model=tiny_model_cfg(hrda=True), max_iters=10,
            dms=dict(type='DMS', mask_prob=0.2,
                     similarity=dict(lpips=dict(type='LPIPS',
                                                pretrained=False))),
            prompt_policy=dict(mask_prob=0.3)))
