import os

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging.history_buffer import HistoryBuffer
from torch import nn

from mmseg.engine.atomic_backend import AtomicLocalBackend
from mmseg.config import ConfigError, load_config
from mmseg.engine.lr_schedulers import PolyLRWithWarmup
from mmseg.engine.optim_constructor import TrainableOptimWrapperConstructor
from mmseg.engine.runner import (apply_rng_state, capture_rng_state,
                                 plain_message_hub, restore_message_hub)
from mmseg.utils.checkpoint_io import (CheckpointLoadError, atomic_torch_save,
                                       load_checkpoint_file)


def test_poly_warmup_matches_mmcv_formula():
    param = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=6e-5)
    sched = PolyLRWithWarmup(opt, max_iters=100, warmup_iters=10,
                             warmup_ratio=1e-6)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        sched.step()
    for t in (0, 5, 10, 50, 99):
        poly = 6e-5 * (1 - t / 100)
        if t < 10:
            poly *= 1 - (1 - t / 10) * (1 - 1e-6)
        assert lrs[t] == pytest.approx(poly, rel=1e-9, abs=1e-15)


class _TwoPart(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(2, 2)
        self.decode_head = nn.Linear(2, 2)
        self.norm = nn.LayerNorm(2)
        self.teacher = nn.Linear(2, 2)
        self.teacher.requires_grad_(False)


def test_optimizer_skips_frozen_params_and_applies_custom_keys():
    model = _TwoPart()
    constructor = TrainableOptimWrapperConstructor(
        dict(optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.01)),
        dict(custom_keys=dict(
            head=dict(lr_mult=10.0), norm=dict(decay_mult=0.0))))
    wrapper = constructor(model)
    groups = wrapper.optimizer.param_groups
    ids = {id(p) for g in groups for p in g['params']}
    assert all(id(p) not in ids for p in model.teacher.parameters())
    head = [g for g in groups if g['params'][0] is model.decode_head.weight]
    assert head[0]['lr'] == 10.0
    norm = [g for g in groups if g['params'][0] is model.norm.weight]
    assert norm[0]['weight_decay'] == 0.0
    assert len(groups) == 6


def test_optimizer_without_paramwise_cfg_still_skips_frozen():
    model = _TwoPart()
    wrapper = TrainableOptimWrapperConstructor(
        dict(optimizer=dict(type='SGD', lr=0.1)))(model)
    n = sum(len(g['params']) for g in wrapper.optimizer.param_groups)
    assert n == 6


def test_config_inheritance_overrides_and_typo(tmp_path):
    base = tmp_path / 'base.py'
    base.write_text('model = dict(type="A", depth=2, head=dict(ch=4))\n'
                    'runner = dict(type="IterBasedRunner", max_iters=10)\n')
    child = tmp_path / 'child.py'
    child.write_text('_base_ = ["./base.py"]\nmodel = dict(depth=3)\n')
    cfg = load_config(str(child), {'model.head.ch': 8})
    assert cfg.model.type == 'A' and cfg.model.depth == 3
    assert cfg.model.head.ch == 8 and cfg.runner.max_iters == 10
    typo = tmp_path / 'typo.py'
    typo.write_text('_base_ = ["./base.py"]\nrunerr = dict(max_iters=3)\n')
    with pytest.raises(ConfigError, match=r'runerr.*typo\.py.*runner'):
        load_config(str(typo))
    with pytest.raises(FileNotFoundError, match='nope.py'):
        load_config(str(tmp_path / 'nope.py'))


def test_checkpoint_io_refuses_arbitrary_objects(tmp_path):
    path = str(tmp_path / 'x.pth')
    atomic_torch_save({'state_dict': {'w': torch.ones(2)}}, path)
    assert torch.equal(load_checkpoint_file(path)['state_dict']['w'],
                       torch.ones(2))
    atomic_torch_save({'obj': Config(dict(a=1))}, path)
    with pytest.raises(CheckpointLoadError, match='--trust-checkpoint'):
        load_checkpoint_file(path)
    assert load_checkpoint_file(path, trusted=True)['obj'].a == 1
    with pytest.raises(CheckpointLoadError, match='not found'):
        load_checkpoint_file(str(tmp_path / 'missing.pth'))


def test_atomic_backend_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / 'ckpt.pth'
    target.write_bytes(b'good')
    backend = AtomicLocalBackend()

    def broken_fsync(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', broken_fsync)
    with pytest.raises(OSError):
        backend.put(b'new content', str(target))
    assert target.read_bytes() == b'good'
    assert os.listdir(tmp_path) == ['ckpt.pth']
    monkeypatch.undo()
    backend.put(b'new content', str(target))
    assert target.read_bytes() == b'new content'


def test_message_hub_and_rng_state_roundtrip_weights_only(tmp_path):
    buf = HistoryBuffer()
    for v in (1.0, 2.0, 4.0):
        buf.update(v)
    state = {'log_scalars': {'loss': buf}, 'runtime_info': {'iter': 3},
             'resumed_keys': {'loss': True}}
    rng = capture_rng_state()
    path = str(tmp_path / 's.pth')
    atomic_torch_save({'mh': plain_message_hub(state), 'rng': rng}, path)
    loaded = load_checkpoint_file(path)
    back = restore_message_hub(loaded['mh'])['log_scalars']['loss']
    assert back.mean() == pytest.approx(buf.mean())
    expected = (torch.rand(3), np.random.rand(2))
    apply_rng_state(loaded['rng'])
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.rand(2), expected[1])
