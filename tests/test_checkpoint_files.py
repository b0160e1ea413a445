"""Checkpoint files: what is not a checkpoint, remedies that work, umask,
checkpoint_config keys, fitting load_from, resume points, output plans."""
import argparse
import io
import os
import pickle

import pytest
import torch
from torch import nn

from mmseg.engine.checkpoint_config import checkpoint_hook_cfg
from mmseg.engine.checkpoint_fit import fit_state_dict
from mmseg.engine.resume_point import (latest_checkpoint,
                                       require_training_checkpoint)
from mmseg.errors import ConfigError
from mmseg.evaluation.output_paths import OutputCollisionError, plan_outputs
from mmseg.models.weights import load_backbone_pretrained
from mmseg.utils.checkpoint_io import (CheckpointLoadError,
                                       atomic_write_bytes,
                                       load_checkpoint_file)
from tools.publish_model import main as publish_main


def _zip_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _legacy_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=False)
    return buffer.getvalue()


WEIGHTS = {'w': torch.arange(64.)}
NOT_CHECKPOINTS = {
    # name: (bytes, expected words in the message)
    'html': (b'<!DOCTYPE html>\n<html><body>404</body></html>',
             "not a PyTorch checkpoint (starts with '<'"),
    'text': (b'Not Found\n', "not a PyTorch checkpoint (starts with 'N'"),
    'lfs': (b'version https://git-lfs.github.com/spec/v1\noid sha256:0\n',
            'Git LFS pointer'),
    'binary': (bytes([0, 1, 2, 250, 3]), 'unknown binary format'),
    'empty': (b'', 'is empty (0 bytes)'),
    'pickle': (pickle.dumps({'w': 1}), 'plain Python pickle'),
    'truncated_zip': (_zip_bytes(WEIGHTS)[:300], 'truncated or corrupt'),
    'truncated_legacy': (_legacy_bytes(WEIGHTS)[:200],
                         'truncated or corrupt'),
}


@pytest.mark.parametrize('trusted', [False, True])
@pytest.mark.parametrize('case', sorted(NOT_CHECKPOINTS))
def test_a_file_that_is_not_a_checkpoint_is_named_as_such(
        tmp_path, case, trusted):
    data, words = NOT_CHECKPOINTS[case]
    path = tmp_path / f'{case}.pth'
    path.write_bytes(data)
    with pytest.raises(CheckpointLoadError) as err:
        load_checkpoint_file(str(path), trusted=trusted)
    message = str(err.value)
    assert words in message and str(path) in message
    assert '\n' not in message
    # no remedy that cannot help: trusting a non-checkpoint changes nothing
    assert '--trust-checkpoint' not in message


def test_unsafe_checkpoint_names_the_class_and_the_flag_that_loads_it(
        tmp_path):
    path = tmp_path / 'args.pth'
    torch.save({'state_dict': WEIGHTS, 'args': argparse.Namespace(lr=1)},
               path)
    with pytest.raises(CheckpointLoadError,
                       match=r'holds argparse.Namespace\); pass '
                       r'--trust-checkpoint'):
        load_checkpoint_file(str(path))
    assert torch.equal(
        load_checkpoint_file(str(path), trusted=True)['state_dict']['w'],
        WEIGHTS['w'])


def test_unsafe_backbone_weights_name_a_remedy_that_works(tmp_path):
    backbone = nn.Linear(4, 2)
    path = tmp_path / 'mit_b5.pth'
    torch.save({'model': {k: torch.full_like(v, 3.0) for k, v in
                          backbone.state_dict().items()},
                'args': argparse.Namespace(lr=1)}, path)
    with pytest.raises(CheckpointLoadError,
                       match='tools/publish_model.py --trust-checkpoint'):
        load_backbone_pretrained(backbone, str(path))
    from mmseg.models.similarity.frozen_metric import load_weight_file
    with pytest.raises(CheckpointLoadError,  # LPIPS/DISTS weights alike
                       match='tools/publish_model.py --trust-checkpoint'):
        load_weight_file(str(path), 'lpips_weights', 'LPIPS')
    # the remedy the message names, followed as written
    converted = publish_main(['--trust-checkpoint', str(path),
                              str(tmp_path / 'mit_b5_weights.pth')])
    load_backbone_pretrained(backbone, converted)
    assert torch.equal(backbone.weight, torch.full((2, 4), 3.0))


@pytest.mark.parametrize('umask,mode', [(0o022, 0o644), (0o077, 0o600),
                                        (0o002, 0o664)])
def test_atomic_writes_respect_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = tmp_path / 'iter_1.pth'
        atomic_write_bytes(b'x', str(path))
        assert os.stat(path).st_mode & 0o777 == mode
    finally:
        os.umask(old)


def test_publish_never_replaces_its_input_or_the_plain_output_name(
        tmp_path):
    ckpt = tmp_path / 'iter_4.pth'
    torch.save({'state_dict': {'model.w': torch.ones(2),
                               'teacher.model.w': torch.zeros(2)},
                'meta': {'iter': 4}}, ckpt)
    before = ckpt.read_bytes()
    final = publish_main([str(ckpt), str(ckpt)])  # same name as the input
    assert ckpt.read_bytes() == before and final != str(ckpt)
    other = tmp_path / 'out.pth'
    other.write_bytes(b'user file')
    final = publish_main([str(ckpt), str(other)])
    assert other.read_bytes() == b'user file'
    assert set(load_checkpoint_file(final)['state_dict']) == {'w'}


# ------------------------------------------------------- checkpoint_config
class _Cfg(dict):
    filename = 'cfg.py'


@pytest.mark.parametrize('ckpt,evaluation,words', [
    (dict(interval=2, create_symlink=False), {},
     'checkpoint_config.create_symlink in cfg.py is not supported'),
    (dict(by_epoch=True), {}, 'by_epoch=True in cfg.py'),
    (dict(interval='2'), {}, "interval='2' in cfg.py: expected an integer"),
    (dict(max_keep_ckpts=1.5), {}, 'max_keep_ckpts=1.5'),
    (dict(save_best='miou'), {}, "save_best='miou' in cfg.py"),
    (dict(save_best=['mIoU']), {}, "save_best=['mIoU']"),
    (dict(rule='greater'), {}, 'rule in cfg.py needs'),
    (dict(save_best='mIoU', rule='max'), {}, "rule='max'"),
    (dict(save_best='mIoU'), dict(save_best='mAcc'), 'disagree'),
    (dict(save_optimizer='no'), {}, "save_optimizer='no'"),
])
def test_checkpoint_config_refuses_what_it_cannot_honour(ckpt, evaluation,
                                                         words):
    cfg = _Cfg(checkpoint_config=ckpt, evaluation=evaluation)
    with pytest.raises(ConfigError, match=__import__('re').escape(words)):
        checkpoint_hook_cfg(cfg, 10)


def test_checkpoint_config_keys_reach_the_hook():
    hook = checkpoint_hook_cfg(
        _Cfg(checkpoint_config=dict(by_epoch=False, interval=3,
                                    max_keep_ckpts=2, save_best='mIoU',
                                    save_optimizer=True)), 10)
    assert hook['type'] == 'SafeCheckpointHook'
    assert (hook['interval'], hook['max_keep_ckpts'], hook['save_best']) == (
        3, 2, 'mIoU')
    defaults = checkpoint_hook_cfg(_Cfg(), 10)
    assert (defaults['interval'], defaults['max_keep_ckpts']) == (10, 1)
    assert 'save_best' not in defaults
    # mmseg 0.x wrote save_best in the evaluation section
    assert checkpoint_hook_cfg(_Cfg(evaluation=dict(save_best='mIoU')),
                               10)['save_best'] == 'mIoU'


# ------------------------------------------------------------- load_from
class _Segmentor(nn.Module):
    def __init__(self, classes: int = 3):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Conv2d(4, 4, 1))
        self.decode_head = nn.Conv2d(4, classes, 1)


class _UDA(nn.Module):
    def __init__(self, classes: int = 3):
        super().__init__()
        self.model = _Segmentor(classes)
        self.teacher = nn.Module()
        self.teacher.model = _Segmentor(classes)


def _filled(module: nn.Module, value: float) -> dict:
    return {k: torch.full_like(v, value)
            for k, v in module.state_dict().items()}


def test_published_segmentor_initialises_the_uda_student():
    uda = _UDA()
    published = _filled(_Segmentor(), 7.0)
    state, report = fit_state_dict(uda, published, 'pub.pth')
    uda.load_state_dict(state, strict=False)
    assert report.target == 'student' and report.loaded == report.total == 6
    assert all(torch.equal(v, published[k])
               for k, v in uda.model.state_dict().items())


def test_uda_checkpoint_fits_as_saved_and_its_student_fits_a_segmentor():
    whole = _filled(_UDA(), 2.0)
    state, report = fit_state_dict(_UDA(), {'module.' + k: v
                                            for k, v in whole.items()}, 'a')
    assert report.reading == 'keys as saved' and len(state) == 12
    segmentor = _Segmentor()
    state, report = fit_state_dict(segmentor, whole, 'a')
    assert report.reading == 'student of a UDA checkpoint'
    assert report.loaded == 6


def test_a_different_head_loads_the_rest_and_reports_the_mismatch():
    state, report = fit_state_dict(_UDA(classes=5),
                                   _filled(_Segmentor(3), 1.0), 'pub.pth')
    assert report.loaded == 4 and len(report.mismatched) == 2
    assert 'model.decode_head.weight' not in state
    assert '2 shape-mismatched' in report.summary('pub.pth')


def test_a_checkpoint_that_does_not_fit_stops_naming_both_sides():
    with pytest.raises(CheckpointLoadError,
                       match=r'only 0 of 6 tensors of the student match '
                       r'\(checkpoint keys e.g. fc.bias, fc.weight'):
        fit_state_dict(_UDA(), {'fc.weight': torch.ones(2, 2),
                                'fc.bias': torch.ones(2)}, 'other.pth')


def test_backbone_weights_given_to_load_from_name_model_pretrained():
    backbone = _filled(_Segmentor().backbone, 1.0)
    with pytest.raises(CheckpointLoadError, match='set model.pretrained'):
        fit_state_dict(_UDA(), backbone, 'mit_b0.pth')


def test_resume_needs_an_exact_fit():
    whole = _filled(_UDA(), 2.0)
    fit_state_dict(_UDA(), whole, 'a', exact=True)
    with pytest.raises(CheckpointLoadError, match='cannot be resumed'):
        fit_state_dict(_UDA(classes=5), whole, 'a', exact=True)
    with pytest.raises(CheckpointLoadError, match='cannot be resumed'):
        fit_state_dict(_UDA(), _filled(_Segmentor(), 1.0), 'pub.pth',
                       exact=True)


def test_resume_needs_a_training_checkpoint_and_an_existing_pointer(
        tmp_path):
    with pytest.raises(CheckpointLoadError,
                       match='not a training checkpoint .*--load-from p.pth'):
        require_training_checkpoint({'state_dict': {}, 'meta': {}}, 'p.pth')
    require_training_checkpoint(
        {'state_dict': {}, 'meta': {'iter': 2}, 'optimizer': {}}, 'i.pth')
    with pytest.raises(CheckpointLoadError, match='has no last_checkpoint '
                       'file, so there is nothing to resume'):
        latest_checkpoint(str(tmp_path))
    (tmp_path / 'iter_2.pth').write_bytes(b'x')
    (tmp_path / 'iter_10.pth').write_bytes(b'x')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_12.pth'))
    with pytest.raises(CheckpointLoadError,
                       match=r'iter_12.pth, which does not exist; resume '
                       r'with --resume-from .*iter_10.pth'):
        latest_checkpoint(str(tmp_path))
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_10.pth'))
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_10.pth')


# ------------------------------------------------------------ output plans
def test_output_plan_refuses_collisions_before_writing(tmp_path):
    images = ['GOPR0355/GOPR_frame_1_rgb_anon.png',
              'GOPR0356/GOPR_frame_1_rgb_anon.png']
    with pytest.raises(OutputCollisionError,
                       match=r'GOPR0355/GOPR_frame_1_rgb_anon.png and '
                       r'GOPR0356/GOPR_frame_1_rgb_anon.png would both be '
                       r'written .*; pass --keep'):
        plan_outputs(images, str(tmp_path / 'out'), flag='--keep')
    assert not (tmp_path / 'out').exists()
    plan = plan_outputs(images, 'out', keep_subdirs=True)
    assert sorted(plan.values()) == [
        'out/GOPR0355/GOPR_frame_1_rgb_anon.png',
        'out/GOPR0356/GOPR_frame_1_rgb_anon.png']
    # an overlay of a.jpg and of a.png would both be a.png
    with pytest.raises(OutputCollisionError, match='a.jpg and seq/a.png'):
        plan_outputs(['seq/a.jpg', 'seq/a.png'], 'show', keep_subdirs=True)
    with pytest.raises(OutputCollisionError, match='not inside'):
        plan_outputs(['../x.png'], 'show', keep_subdirs=True)


def test_save_best_of_a_metric_the_evaluation_lacks_is_named():
    from mmseg.engine.hooks.safe_checkpoint_hook import SafeCheckpointHook
    hook = SafeCheckpointHook(interval=1, by_epoch=False, save_best='mIoU16')
    with pytest.raises(ConfigError, match="save_best='mIoU16': the "
                       'evaluation returns no such metric'):
        hook._save_best_checkpoint(None, {'mIoU': 1.0, 'aAcc': 2.0})


def test_save_best_without_evaluation_is_said(monkeypatch):
    import mmseg.engine.checkpoint_config as module
    said = []
    monkeypatch.setattr(module, 'print_log',
                        lambda msg, **kwargs: said.append(msg))
    module.warn_save_best_without_evaluation(
        dict(checkpoint=dict(save_best='mIoU')))
    module.warn_save_best_without_evaluation(dict(checkpoint=dict()))
    assert said == ["checkpoint_config.save_best='mIoU' keeps no best "
                    'checkpoint: evaluation is off (--no-validate or '
                    'evaluation.interval <= 0)']
