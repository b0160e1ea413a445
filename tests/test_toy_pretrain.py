"""The toy stand-in for ImageNet weights: trained once, backbone only, loads via pretrained=."""
import os.path as osp
import subprocess

import pytest
import torch

from mmseg.engine import toy_assets
from mmseg.engine.toy_assets import ensure_toy_pretrained
from mmseg.engine.toy_pretrain import backbone_state
from mmseg.utils.checkpoint_io import load_checkpoint_file

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

TINY = '''
_base_ = [{base!r}]
toy_data = dict(root={root!r}, seed=1000, num_source_train=2, num_source_val=1,
                num_target_train=0, num_target_val=0, num_target_test=0,
                num_prompts=0, num_night_oracle_train=0)
data = dict(
    samples_per_gpu=2,
    train=dict(data_root={root!r} + '/cityscapes'),
    val=dict(data_root={root!r} + '/cityscapes'),
    test=dict(data_root={root!r} + '/cityscapes'))
crop_size = (64, 64)
runner = dict(max_iters=2)
checkpoint_config = dict(interval=2)
evaluation = dict(interval=2)
log_config = dict(interval=1)
'''


def _build(pretrained=None):
    from mmengine.config import Config

    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/models/daformer_sepaspp_mitb0.py'))
    cfg.model.pretrained = pretrained
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def test_backbone_state_keeps_only_backbone_keys_without_prefix():
    model = _build()
    state = backbone_state(model)
    assert set(state) == set(model.backbone.state_dict())
    assert all(not k.startswith(('backbone.', 'decode_head.')) for k in state)


def test_toy_pretrained_is_created_once_and_loads_as_pretrained(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / 'pretrain.py'
    config.write_text(TINY.format(
        base=osp.join(REPO, 'configs/toy/toy_pretrain_mitb0.py'), root=str(tmp_path / 'data')))
    out = str(tmp_path / 'pretrained' / 'toy.pth')
    monkeypatch.setenv('PYTHONPATH', REPO)
    assert ensure_toy_pretrained(out, str(config), str(tmp_path / 'wd')) == out
    saved = load_checkpoint_file(out)['state_dict']
    model = _build(pretrained=out)
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, saved[key]), key
    assert not torch.equal(_build().backbone.state_dict()['patch_embed1.proj.weight'],
                           saved['patch_embed1.proj.weight'])

    def no_training(*args, **kwargs):
        raise AssertionError('trained again although the file exists')
    monkeypatch.setattr(toy_assets.subprocess, 'run', no_training)
    assert ensure_toy_pretrained(out, str(config)) == out


def test_pretrained_file_of_another_toy_data_version_is_trained_again(tmp_path, monkeypatch,
                                                                     capsys):
    from mmseg.datasets.toy_data import FORMAT_VERSION
    config = tmp_path / 'c.py'
    config.write_text('x = 1\n')
    out = tmp_path / 'p.pth'
    calls = []

    def fake_training(command, check):
        calls.append(command)
        torch.save(dict(state_dict={}, meta=dict(toy_data_version=FORMAT_VERSION)), out)
    monkeypatch.setattr(toy_assets.subprocess, 'run', fake_training)
    torch.save(dict(state_dict={}, meta=dict(config='c.py')), out)  # before versions were kept
    assert ensure_toy_pretrained(str(out), str(config)) == str(out)
    assert len(calls) == 1 and f'generator is at version {FORMAT_VERSION}' in capsys.readouterr().out
    assert toy_assets.pretrained_data_version(str(out)) == FORMAT_VERSION
    assert ensure_toy_pretrained(str(out), str(config)) == str(out)  # current: kept
    assert len(calls) == 1


def test_missing_pretrain_config_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.py'):
        ensure_toy_pretrained(str(tmp_path / 'x.pth'), str(tmp_path / 'nowhere.py'))


def test_failed_pretraining_leaves_no_file(tmp_path, monkeypatch):
    config = tmp_path / 'c.py'
    config.write_text('x = 1\n')

    def failing(command, check):
        raise subprocess.CalledProcessError(1, command)
    monkeypatch.setattr(toy_assets.subprocess, 'run', failing)
    with pytest.raises(subprocess.CalledProcessError):
        ensure_toy_pretrained(str(tmp_path / 'p.pth'), str(config))
    assert not (tmp_path / 'p.pth').exists()


def _cfg(tmp_path, text):
    from mmengine.config import Config
    path = tmp_path / 'c.py'
    path.write_text(text)
    return Config.fromfile(str(path))


def test_prepare_toy_assets_names_a_misspelt_toy_data_key(tmp_path):
    from mmseg.errors import ConfigError
    from mmseg.engine.toy_assets import prepare_toy_assets
    cfg = _cfg(tmp_path, "toy_data = dict(root='x', num_prompt=2)\n")
    with pytest.raises(ConfigError, match=r'toy_data.*num_prompt.*c\.py'):
        prepare_toy_assets(cfg)
    assert not (tmp_path / 'x').exists()


def test_prepare_toy_assets_names_a_bad_toy_pretrained_section(tmp_path):
    from mmseg.errors import ConfigError
    from mmseg.engine.toy_assets import prepare_toy_assets
    cfg = _cfg(tmp_path, "toy_pretrained = dict(pth='a.pth', config='b.py')\n")
    with pytest.raises(ConfigError, match=r'toy_pretrained.*pth.*c\.py'):
        prepare_toy_assets(cfg)
    cfg = _cfg(tmp_path, "toy_pretrained = dict(config='b.py')\n")
    with pytest.raises(ConfigError, match=r'toy_pretrained needs "path"'):
        prepare_toy_assets(cfg)


def test_prepare_toy_assets_creates_data_and_pretrained(tmp_path, monkeypatch):
    from mmseg.engine.toy_assets import prepare_toy_assets
    made = []
    monkeypatch.setattr(toy_assets, 'ensure_toy_pretrained',
                        lambda **kw: made.append(kw))
    root = str(tmp_path / 'toy')
    cfg = _cfg(tmp_path, f"toy_data = dict(root={root!r}, num_source_train=1, "
               "num_source_val=0, num_target_train=0, num_target_val=0, "
               "num_target_test=0, num_prompts=0, num_night_oracle_train=0)\n"
               "toy_pretrained = dict(path='p.pth', config='c.py')\n")
    prepare_toy_assets(cfg)
    assert osp.isdir(osp.join(root, 'cityscapes'))
    assert made == [dict(path='p.pth', config='c.py')]


def test_toy_asset_locks_are_per_asset_so_a_pretraining_child_never_waits(
        tmp_path):
    """The toy pretraining runs in a child process that prepares its own
    toy data while its parent is inside ``prepare_toy_assets``: a lock held
    for one data root (or one weight file) must not block another."""
    import fcntl
    import sys

    from mmseg.engine.toy_assets import lock_file_of
    assert lock_file_of('data/toy') == lock_file_of(osp.abspath('data/toy'))
    assert lock_file_of('data/toy') != lock_file_of('data/toy_day')
    held = lock_file_of(str(tmp_path / 'busy'))
    child = (
        'from mmengine.config import Config\n'
        'from mmseg.engine.toy_assets import prepare_toy_assets\n'
        f'prepare_toy_assets(Config(dict(toy_data=dict(root={str(tmp_path / "toy")!r}, '
        'seed=0, num_source_train=1, num_source_val=0, num_target_train=0, '
        'num_target_val=0, num_target_test=0, num_prompts=0, num_night_oracle_train=0))))\n')
    with open(held, 'a') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # another run is generating
        done = subprocess.run([sys.executable, '-c', child], cwd=REPO,
                              timeout=120, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert osp.isdir(tmp_path / 'toy')
