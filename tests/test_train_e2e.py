"""End-to-end runs of tools/train.py and tools/test.py on tiny toy data."""
import glob
import os
import os.path as osp

import pytest
import torch

from e2e_config import write_tiny_config
from mmseg.errors import ConfigError
from mmseg.utils.checkpoint_io import load_checkpoint_file
from tools.test import main as run_test
from tools.train import main as train_main

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('toy') / 'toy')


def _train(cfg_path, work_dir, *extra):
    return train_main([cfg_path, '--work-dir', work_dir, *extra])


def _student_and_teacher(ckpt):
    return load_checkpoint_file(ckpt)['state_dict']


def test_train_evaluates_checkpoints_and_schedules(tmp_path, toy_root):
    cfg = write_tiny_config(str(tmp_path), 'toy_dacs_daformer_mitb0.py',
                            toy_root, img_interval=2)
    runner = _train(cfg, str(tmp_path / 'run'))
    assert osp.isfile(tmp_path / 'run' / 'iter_4.pth')
    assert (tmp_path / 'run' / 'last_checkpoint').read_text().endswith(
        'iter_4.pth')
    assert glob.glob(str(tmp_path / 'run' / '*' / '*.log'))
    assert glob.glob(str(tmp_path / 'run' / 'debug' / '000002_0.png'))
    assert not glob.glob(str(tmp_path / 'run' / '*.tmp'))
    state = _student_and_teacher(str(tmp_path / 'run' / 'iter_4.pth'))
    assert any(k.startswith('teacher.model.') for k in state)
    assert state['_extra_state'] == {'iteration': 4}
    lr = runner.optim_wrapper.optimizer.param_groups[0]['lr']
    assert 0 < lr < 6e-4  # warm-up and poly decay moved the lr
    results = run_test([cfg, str(tmp_path / 'run' / 'iter_4.pth'),
                         '--eval', 'mIoU'])
    assert 0.0 <= results['mIoU'] <= 100.0 and 'IoU.road' in results


def test_resume_continues_the_same_trajectory(tmp_path, toy_root):
    cfg = write_tiny_config(str(tmp_path), 'toy_hrda_daformer_mitb0.py',
                            toy_root, iters=4, ckpt_interval=2)
    _train(cfg, str(tmp_path / 'full'), '--no-validate')
    os.makedirs(tmp_path / 'resumed')
    _train(cfg, str(tmp_path / 'resumed'), '--no-validate', '--resume-from',
           str(tmp_path / 'full' / 'iter_2.pth'))
    full = _student_and_teacher(str(tmp_path / 'full' / 'iter_4.pth'))
    resumed = _student_and_teacher(str(tmp_path / 'resumed' / 'iter_4.pth'))
    assert full.keys() == resumed.keys()
    for key, value in full.items():
        if torch.is_tensor(value):
            assert torch.equal(value, resumed[key]), key
    assert resumed['_extra_state'] == {'iteration': 4}


def test_format_only_writes_one_png_per_test_image(tmp_path, toy_root):
    cfg = write_tiny_config(str(tmp_path), 'toy_srconly_daformer_mitb0.py',
                            toy_root, iters=1, ckpt_interval=1)
    _train(cfg, str(tmp_path / 'run'), '--no-validate')
    out = tmp_path / 'labelTrainIds'
    run_test([cfg, str(tmp_path / 'run' / 'iter_1.pth'), '--test-set',
               '--format-only', '--eval-option', f'imgfile_prefix={out}',
               'to_label_id=False'])
    written = sorted(os.listdir(out))
    images = sorted(
        osp.basename(p) for p in glob.glob(
            osp.join(toy_root, 'dark_zurich', 'rgb_anon', 'test', '**',
                     '*_rgb_anon.png'), recursive=True))
    assert written == images and len(written) == 2
    show = tmp_path / 'show'
    run_test([cfg, str(tmp_path / 'run' / 'iter_1.pth'), '--show-dir',
              str(show), '--opacity', '0.5'])
    overlays = glob.glob(str(show / '**' / '*.png'), recursive=True)
    assert len(overlays) == 2  # the labelled val split of the tiny set


def test_missing_data_folder_is_named(tmp_path, toy_root):
    cfg = write_tiny_config(
        str(tmp_path), 'toy_srconly_daformer_mitb0.py', toy_root, iters=1)
    with pytest.raises(ConfigError, match='data.val.data_root=/nonexistent/dz'):
        _train(cfg, str(tmp_path / 'run'), '--cfg-options',
               'data.val.data_root=/nonexistent/dz')


def test_mmseg1x_names_set_the_schedule(tmp_path, toy_root):
    """train_cfg.max_iters / default_hooks.checkpoint.interval (mmseg 1.x)
    act as runner.max_iters / checkpoint_config.interval: 1 iteration, not
    the config's 4."""
    cfg = write_tiny_config(
        str(tmp_path), 'toy_srconly_daformer_mitb0.py', toy_root, iters=4)
    _train(cfg, str(tmp_path / 'run'), '--no-validate', '--cfg-options',
           'train_cfg.max_iters=1', 'default_hooks.checkpoint.interval=1',
           'randomness.seed=3')
    assert sorted(os.listdir(tmp_path / 'run')).count('iter_1.pth') == 1
    assert not glob.glob(str(tmp_path / 'run' / 'iter_[2-9].pth'))
    assert load_checkpoint_file(str(tmp_path / 'run' / 'iter_1.pth'))[
        'meta']['seed'] == 3


def test_unknown_type_names_key_and_file(tmp_path, toy_root):
    cfg = write_tiny_config(
        str(tmp_path), 'toy_srconly_daformer_mitb0.py', toy_root, iters=1,
        extra="model = dict(backbone=dict(type='mit_b9'))\n")
    with pytest.raises(ConfigError, match=r'mit_b9.*tiny_toy_srconly'):
        _train(cfg, str(tmp_path / 'run'))


def test_misspelt_nested_key_names_key_and_file(tmp_path, toy_root):
    cfg = write_tiny_config(str(tmp_path), 'toy_dacs_daformer_mitb0.py',
                            toy_root, iters=1)
    with pytest.raises(ConfigError, match=r'pseudo_treshold.*tiny_toy_dacs'):
        _train(cfg, str(tmp_path / 'run'), '--cfg-options',
               'uda.pseudo_treshold=0.9')


def test_toy_eglp_config_trains_with_prototype_dnis(tmp_path, toy_root):
    cfg = write_tiny_config(
        str(tmp_path), 'toy_eglp_hrda_daformer_mitb0.py', toy_root, iters=2,
        extra='uda = dict(dms=dict(similarity=dict(prototype=dict('
              'encoder=dict(pretrained=None)))))\n')
    _train(cfg, str(tmp_path / 'run'), '--no-validate')
    state = _student_and_teacher(str(tmp_path / 'run' / 'iter_2.pth'))
    assert state['dms.similarity.seen'].any()
    assert any(k.startswith('dms.similarity.prototype.encoder.') for k in state)
    assert any(k.startswith('nfnet.') for k in state)
    _check_test_models(cfg, str(tmp_path / 'run' / 'iter_2.pth'), tmp_path)


def _check_test_models(cfg, ckpt, tmp_path):
    """tools/test.py --test-model: the teacher's result equals the student
    path on a checkpoint whose student is the teacher; EGLP's networks and
    the fusion evaluate from the same file; the default is the config's."""
    state = load_checkpoint_file(ckpt)
    swapped = dict(state['state_dict'])
    for key, value in state['state_dict'].items():
        if key.startswith('teacher.model.'):
            swapped['model.' + key[len('teacher.model.'):]] = value
    torch.save(dict(state, state_dict=swapped), tmp_path / 'swapped.pth')
    as_student = run_test([cfg, str(tmp_path / 'swapped.pth'), '--eval',
                           'mIoU', '--test-model', 'student'])
    teacher = run_test([cfg, ckpt, '--eval', 'mIoU', '--test-model',
                        'teacher'])
    assert teacher == pytest.approx(as_student, nan_ok=True, abs=0)
    results = {
        m: run_test([cfg, ckpt, '--eval', 'mIoU', '--test-model', m])
        for m in ('nfnet_teacher', 'fusion')
    }
    assert all(0.0 <= r['mIoU'] <= 100.0 for r in results.values())
    # without --test-model the config's uda.test_model (the NFNet teacher)
    default = run_test([cfg, ckpt, '--eval', 'mIoU'])
    assert default == pytest.approx(results['nfnet_teacher'], nan_ok=True,
                                     abs=0)


def test_train_with_compile_keeps_checkpoint_keys(tmp_path, toy_root):
    """``--compile`` (here with the config's backend choice, eager, to stay
    fast) compiles student and teacher in place: same checkpoint keys."""
    cfg = write_tiny_config(str(tmp_path), 'toy_dacs_daformer_mitb0.py',
                            toy_root, iters=2,
                            extra="compile = dict(backend='eager')\n")
    runner = _train(cfg, str(tmp_path / 'run'), '--compile')
    uda = runner.model
    for net in (uda.model, uda.teacher.model):
        assert type(net.backbone.forward).__name__ == 'EagerFallback'
        assert not net.backbone.forward.failed
    state = _student_and_teacher(str(tmp_path / 'run' / 'iter_2.pth'))
    assert state.keys() == uda.state_dict().keys()
    assert not any('_orig_mod' in k for k in state)
