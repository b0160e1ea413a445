"""``compile=True`` / ``--compile``: torch.compile of the student, teachers
and NFNet in place, eager fallback with a warning naming the part, results
equal to eager."""
import copy
import os.path as osp
import warnings

import pytest
import torch
from mmengine.config import Config

from mmseg.engine.build import compile_from
from mmseg.errors import ConfigError
from mmseg.models.utils.compiling import (compile_networks, compile_options,
                                          networks_of)
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from uda_fixtures import optim_wrapper_for, tiny_model_cfg, uda_batch

register_all_modules()
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(autouse=True)
def fresh_dynamo():
    """Compiled code of one test does not count towards another's
    recompilation limit."""
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def build_dacs(hrda=False):
    torch.manual_seed(0)
    model = MODELS.build(dict(type='DACS', model=tiny_model_cfg(hrda),
                              max_iters=10, alpha=0.9))
    model.init_weights()
    return model


def two_steps(model):
    wrapper = optim_wrapper_for(model)
    torch.manual_seed(1)
    return [model.train_step(uda_batch(), wrapper) for _ in range(2)]


def assert_same_logs(a, b, tol, keys='loss'):
    """Equal losses (and, with ``keys=''``, accuracies: with another
    summation order a near-tie of two logits may flip an argmax)."""
    for la, lb in zip(a, b):
        assert la.keys() == lb.keys()
        for key in (k for k in la if keys in k):
            torch.testing.assert_close(la[key], lb[key], rtol=tol, atol=tol)


def failing_backend(gm, example_inputs):
    raise RuntimeError('this backend compiles nothing')


def test_compile_options_are_checked():
    assert compile_options(True) == {}
    assert compile_options(dict(mode='max-autotune')) == \
        dict(mode='max-autotune')
    with pytest.raises(ValueError, match='modee'):
        compile_options(dict(modee='x'))
    with pytest.raises(ValueError, match='compile must be'):
        compile_options('yes')
    cfg = Config(dict(compile=dict(dynamicc=True)))
    with pytest.raises(ConfigError, match='dynamicc'):
        compile_from(cfg)
    assert compile_from(Config(dict())) is False
    assert compile_from(Config(dict(compile=True))) is True


@pytest.mark.parametrize('hrda', [False, True])
def test_compiled_parts_are_named_and_keep_state_dict_keys(hrda):
    model = build_dacs(hrda)
    keys = list(model.state_dict())
    compiled = compile_networks(model, dict(backend='eager'))
    names = [c.name for c in compiled]
    assert 'model.backbone' in names and 'teacher.model.backbone' in names
    if hrda:  # the crop-box logic of HRDAHead stays eager
        assert 'model.decode_head.head' in names
        assert 'model.decode_head.scale_attention' in names
    else:
        assert 'model.decode_head' in names
    assert list(model.state_dict()) == keys
    assert compile_networks(model, False) == []


def test_eglp_nfnet_and_its_teacher_are_compiled():
    class Eglp(torch.nn.Module):  # the attributes compile_networks reads
        def __init__(self, dacs):
            super().__init__()
            self.model, self.teacher = dacs.model, dacs.teacher
            self.nfnet, self.nf_teacher = dacs.model, dacs.teacher
    names = [n for n, _ in networks_of(Eglp(build_dacs()))]
    assert names == ['model', 'nfnet', 'teacher.model', 'nf_teacher.model']


def test_compiled_uda_step_equals_eager():
    eager = build_dacs(hrda=True)
    compiled = copy.deepcopy(eager)
    compile_networks(compiled, dict(backend='aot_eager'))
    assert_same_logs(two_steps(compiled), two_steps(eager), 1e-5, keys='')


def test_part_that_does_not_compile_runs_eager_with_a_warning():
    eager = build_dacs()
    model = copy.deepcopy(eager)
    compile_networks(model, dict(backend=failing_backend))
    with pytest.warns(RuntimeWarning,
                      match='model.backbone does not compile'):
        logs = two_steps(model)
    assert_same_logs(logs, two_steps(eager), 1e-6, keys='')


@pytest.mark.slow
def test_inductor_compiles_the_toy_step_on_cpu():
    """The default backend (inductor, C++ on CPU) on the tiny DACS step."""
    eager = build_dacs()
    compiled = copy.deepcopy(eager)
    parts = compile_networks(compiled, True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        logs = two_steps(compiled)
    assert not any(p.failed for p in parts), [str(w.message) for w in caught]
    assert_same_logs(logs, two_steps(eager), 1e-4)


def test_train_flag_sets_the_config_key():
    from tools.train import apply_command_line, parse_args
    cfg = Config(dict())
    apply_command_line(cfg, parse_args(['x.py', '--compile']))
    assert cfg.compile is True
    cfg = Config(dict(compile=dict(mode='reduce-overhead')))
    apply_command_line(cfg, parse_args(['x.py', '--compile']))
    assert cfg.compile == dict(mode='reduce-overhead')


def test_cpu_inductor_keeps_convolutions_in_their_layout():
    from mmseg.models.utils.compiling import inductor_cpu_defaults
    cpu = torch.nn.Conv2d(1, 1, 1)
    assert inductor_cpu_defaults({}, cpu) == dict(
        options=dict(layout_optimization=False))
    mine = dict(options=dict(layout_optimization=True, max_autotune=True))
    assert inductor_cpu_defaults(mine, cpu) == mine
    for kept in (dict(backend='aot_eager'), dict(mode='max-autotune')):
        assert inductor_cpu_defaults(kept, cpu) == kept  # no options added
    assert inductor_cpu_defaults({}, torch.nn.Identity()) == {}  # no params
