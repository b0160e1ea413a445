"""Mixed precision (--amp): the optimiser wrapper, config keys, and the UDA
step's autocast coverage and bf16-vs-fp32 agreement on CPU."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from mmseg.engine.build import optim_wrapper_from
from mmseg.engine.mixed_precision import (MixedPrecisionOptimWrapper,
                                          parse_dtype)
from mmseg.engine.optim_constructor import TrainableOptimWrapperConstructor
from mmseg.errors import ConfigError
from mmseg.models.utils.precision import autocast_context
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from uda_fixtures import tiny_model_cfg, uda_batch

register_all_modules()


def wrapper_of(model, amp=None, lr=1e-3):
    cfg = dict(optimizer=dict(type='AdamW', lr=lr))
    if amp:
        cfg.update(type='MixedPrecisionOptimWrapper', dtype=amp)
    return TrainableOptimWrapperConstructor(cfg)(model)


# ------------------------------------------------------------ the wrapper
def test_bf16_autocasts_on_the_model_device_type():
    model = torch.nn.Linear(4, 4)
    wrapper = wrapper_of(model, 'bfloat16')
    assert isinstance(wrapper, MixedPrecisionOptimWrapper)
    with wrapper.optim_context(model):
        assert model(torch.randn(2, 4)).dtype == torch.bfloat16
    assert model(torch.randn(2, 4)).dtype == torch.float32
    with autocast_context(wrapper, model):
        assert model(torch.randn(2, 4)).dtype == torch.bfloat16
    with autocast_context(OptimWrapper(wrapper.optimizer), model):
        assert model(torch.randn(2, 4)).dtype == torch.float32


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only check')
def test_fp16_is_refused_without_cuda():
    model = torch.nn.Linear(4, 4)
    with pytest.raises(ValueError, match='float16.*CUDA.*bfloat16'):
        wrapper_of(model, 'float16')


def test_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match='amp.dtype'):
        parse_dtype('int8')


def test_loss_scaler_scales_backward_and_is_in_the_state_dict():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    ref = copy.deepcopy(model)
    wrapper = wrapper_of(model, 'bfloat16', lr=0.1)
    # the fp16 scaler needs CUDA; the CPU scaler exercises the same code
    wrapper.loss_scaler = torch.amp.GradScaler('cpu', init_scale=8.0)
    x = torch.randn(3, 4)
    wrapper.backward(model(x).sum())
    assert torch.allclose(model.weight.grad, 8.0 * x.sum(0, keepdim=True))
    wrapper.step()  # unscaled before the update: same as plain SGD/AdamW
    ref_opt = torch.optim.AdamW(ref.parameters(), lr=0.1)
    ref(x).sum().backward()
    ref_opt.step()
    torch.testing.assert_close(model.weight, ref.weight)
    state = wrapper.state_dict()
    assert state['loss_scaler']['scale'] == 8.0
    other = wrapper_of(copy.deepcopy(model), 'bfloat16', lr=0.1)
    other.loss_scaler = torch.amp.GradScaler('cpu', init_scale=1.0)
    other.load_state_dict(state)
    assert other.loss_scaler.get_scale() == 8.0
    assert 'loss_scaler' not in other.optimizer.state_dict()


# ------------------------------------------------------------ config keys
def _cfg(**kwargs) -> Config:
    return Config(dict(optimizer=dict(type='AdamW', lr=1e-3), **kwargs))


@pytest.mark.parametrize('keys, dtype', [
    (dict(amp=dict(dtype='bfloat16')), 'bfloat16'),
    (dict(amp=dict()), 'bfloat16'),
    (dict(optim_wrapper=dict(type='AmpOptimWrapper', dtype='bfloat16')),
     'bfloat16'),
    (dict(fp16=dict(loss_scale=512.)), 'float16'),
])
def test_config_keys_select_the_mixed_precision_wrapper(keys, dtype):
    wrapper = optim_wrapper_from(_cfg(**keys))
    assert wrapper['type'] == 'MixedPrecisionOptimWrapper'
    assert wrapper['dtype'] == dtype
    assert optim_wrapper_from(_cfg())['type'] == 'OptimWrapper'


@pytest.mark.parametrize('keys, match', [
    (dict(amp=dict(dtype='int8')), 'amp.dtype'),
    (dict(amp=dict(dtyp='bfloat16')), "unknown amp key.*dtyp"),
    (dict(amp='bf16'), 'amp must be a dict'),
    (dict(amp=dict(), fp16=dict()), 'not several'),
    (dict(optim_wrapper=dict(type='OptimWrapper')), 'optim_wrapper'),
])
def test_bad_amp_config_is_refused(keys, match):
    with pytest.raises(ConfigError, match=match):
        optim_wrapper_from(_cfg(**keys))


@pytest.mark.parametrize('argv, dtype', [
    (['--amp'], 'bfloat16'), (['--amp', 'bf16'], 'bfloat16'),
    (['--amp', 'fp16'], 'float16'), ([], None)])
def test_train_amp_flag_sets_the_config(argv, dtype):
    from tools.train import apply_command_line, parse_args
    cfg = _cfg()
    apply_command_line(cfg, parse_args(['cfg.py', *argv]))
    assert (cfg.get('amp') or {}).get('dtype') == dtype


# ------------------------------------------------------------ UDA step
def build_eglp():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='EGLP', model=tiny_model_cfg(hrda=True), max_iters=10,
        alpha=0.9, pseudo_threshold=0.5, imnet_feature_dist_lambda=0.005,
        dms=dict(type='DMS', mode='soft', k=2, similarity=dict(
            metric='lpips', ema=0.9,
            lpips=dict(type='LPIPS', pretrained=False)))))
    model.init_weights()
    return model


def test_every_forward_of_the_uda_step_runs_under_autocast():
    model = build_eglp()
    seen = {}
    # segmentors are entered through methods (forward_train,
    # encode_decode...); their backbones through __call__
    networks = dict(student=model.model.backbone,
                    teacher=model.teacher.model.backbone,
                    imnet=model.feature_distance.imnet_model.backbone,
                    nfnet=model.nfnet.backbone,
                    nfnet_teacher=model.nf_teacher.model.backbone,
                    lpips=model.dms.similarity.lpips.net)

    def record(name):
        def hook(module, args):
            seen.setdefault(name, set()).add(
                torch.is_autocast_enabled('cpu'))
        return hook

    for name, net in networks.items():
        net.register_forward_pre_hook(record(name))
    model.train_step(uda_batch(prompt=True), wrapper_of(model, 'bfloat16'))
    assert seen == {name: {True} for name in networks}
    # parameters, EMA teachers and running statistics stay fp32
    assert all(t.dtype == torch.float32 for t in model.state_dict().values()
               if torch.is_tensor(t) and t.is_floating_point())


def test_bf16_step_matches_fp32_losses_and_pseudo_labels():
    """On a fixed batch: losses within 2%, pseudo-labels >= 99% equal."""
    fp32 = build_eglp()
    with torch.no_grad():
        # a student that moved away from the ImageNet model, as in training
        for p in fp32.model.backbone.parameters():
            p.add_(0.02 * torch.randn_like(p))
        # confident classifiers (logits of a trained network, not ~0)
        for net in (fp32.model, fp32.nfnet):
            for name, p in net.named_parameters():
                if 'conv_seg' in name:
                    p.mul_(30.0)
    fp32.teacher.update(fp32.model, 0)
    fp32.nf_teacher.update(fp32.nfnet, 0)
    bf16 = copy.deepcopy(fp32)
    logs, labels = [], []
    for model, amp in ((fp32, None), (bf16, 'bfloat16')):
        torch.manual_seed(7)
        model.request_debug()
        logs.append(model.train_step(uda_batch(prompt=True),
                                     wrapper_of(model, amp)))
        labels.append(model.pop_debug()['pseudo_label'])
    losses = [k for k in logs[0] if 'loss' in k]
    assert len(losses) >= 5
    for key in losses:
        ref, low = logs[0][key].item(), logs[1][key].item()
        assert abs(low - ref) <= 0.02 * abs(ref) + 1e-6, (key, ref, low)
    agree = (labels[0] == labels[1]).float().mean().item()
    assert agree >= 0.99, agree


@pytest.mark.slow
def test_toy_hrda_trains_with_amp_on_cpu_without_nan(tmp_path):
    import math

    from e2e_config import write_tiny_config
    from tools.train import main as train_main
    cfg = write_tiny_config(str(tmp_path), 'toy_hrda_daformer_mitb0.py',
                            str(tmp_path / 'toy'))
    runner = train_main([cfg, '--work-dir', str(tmp_path / 'run'), '--amp',
                         '--no-validate'])
    assert isinstance(runner.optim_wrapper, MixedPrecisionOptimWrapper)
    assert runner.optim_wrapper.cast_dtype == torch.bfloat16
    scalars = runner.message_hub.log_scalars
    losses = [k for k in scalars if 'loss' in k]
    assert losses
    for key in losses:
        assert all(math.isfinite(v) for v in scalars[key].data[0]), key
    assert all(torch.isfinite(p).all()
               for p in runner.model.parameters())
