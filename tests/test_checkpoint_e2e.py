"""End-to-end: a kill inside a checkpoint write, save_best, --load-from a
published checkpoint, resume refusals, and prediction files that would
collide (tools/train.py, tools/test.py, tools/seco/dump_pseudo_labels.py)."""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch

from e2e_config import REPO, write_tiny_config
from mmseg.evaluation.output_paths import OutputCollisionError
from mmseg.utils.checkpoint_io import CheckpointLoadError, load_checkpoint_file
from tools.publish_model import publish
from tools.test import main as run_test
from tools.train import main as train_main

pytestmark = pytest.mark.slow

# Runs tools/train.py and SIGKILLs the process half-way through writing the
# checkpoint named KILL_AT, as the OOM killer or a preemption would.
KILLING_DRIVER = '''
import os, signal, sys, tempfile
sys.path.insert(0, {repo!r})
import mmseg.engine.atomic_backend as backend
real_write = backend.atomic_write_bytes

def dying_write(data, filename):
    if os.path.basename(filename) == {kill_at!r}:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(filename),
                                   prefix='.' + os.path.basename(filename),
                                   suffix='.tmp')
        os.write(fd, data[:len(data) // 2])
        os.fsync(fd)
        os.kill(os.getpid(), signal.SIGKILL)
    real_write(data, filename)

backend.atomic_write_bytes = dying_write
from tools.train import main
main(sys.argv[1:])
'''


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('toy') / 'toy')


def _state(path):
    return load_checkpoint_file(str(path))['state_dict']


def _assert_same_tensors(a, b):
    assert a.keys() == b.keys()
    for key, value in a.items():
        if torch.is_tensor(value):
            assert torch.equal(value, b[key]), key


def test_kill_during_checkpoint_write_keeps_the_previous_one_and_resumes(
        tmp_path, toy_root):
    extra = 'checkpoint_config = dict(interval=2, max_keep_ckpts=1)\n'
    cfg = write_tiny_config(str(tmp_path), 'toy_dacs_daformer_mitb0.py',
                            toy_root, iters=4, ckpt_interval=2, extra=extra)
    train_main([cfg, '--work-dir', str(tmp_path / 'full'), '--no-validate'])
    assert glob.glob(str(tmp_path / 'full' / '*.pth')) == [
        str(tmp_path / 'full' / 'iter_4.pth')]  # max_keep_ckpts=1

    work = tmp_path / 'killed'
    driver = tmp_path / 'driver.py'
    driver.write_text(KILLING_DRIVER.format(repo=REPO, kill_at='iter_4.pth'))
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, str(driver), cfg, '--work-dir', str(work),
         '--no-validate'], cwd=REPO, env=env, capture_output=True)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    assert glob.glob(str(work / '.iter_4.pth*.tmp'))  # the partial write
    assert not (work / 'iter_4.pth').exists()
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_2.pth')
    assert _state(work / 'iter_2.pth')['_extra_state'] == {'iteration': 2}

    train_main([cfg, '--work-dir', str(work), '--no-validate', '--resume'])
    _assert_same_tensors(_state(tmp_path / 'full' / 'iter_4.pth'),
                         _state(work / 'iter_4.pth'))
    assert not (work / 'iter_2.pth').exists()
    assert not glob.glob(str(work / '.*.tmp'))


def test_save_best_keeps_the_best_checkpoint(tmp_path, toy_root,
                                             monkeypatch):
    from mmseg.evaluation.iou_metric import IoUMetric
    scores = iter([5.0, 9.0, 3.0])  # iterations 1, 2, 3: the best is 2
    real = IoUMetric.compute_metrics

    def scripted(self, results):
        return dict(real(self, results), mIoU=next(scores))

    monkeypatch.setattr(IoUMetric, 'compute_metrics', scripted)
    extra = ("checkpoint_config = dict(interval=1, max_keep_ckpts=1, "
             "save_best='mIoU')\nevaluation = dict(interval=1)\n")
    cfg = write_tiny_config(str(tmp_path), 'toy_srconly_daformer_mitb0.py',
                            toy_root, iters=3, extra=extra)
    old = os.umask(0o022)
    try:
        train_main([cfg, '--work-dir', str(tmp_path / 'run')])
    finally:
        os.umask(old)
    files = sorted(f for f in os.listdir(tmp_path / 'run')
                   if f.endswith('.pth'))
    assert files == ['best_mIoU_iter_2.pth', 'iter_3.pth']
    best = load_checkpoint_file(str(tmp_path / 'run' /
                                    'best_mIoU_iter_2.pth'))
    assert best['meta']['iter'] == 2
    assert best['message_hub']['runtime_info']['best_score'] == 9.0
    for name in files + ['last_checkpoint']:
        assert os.stat(tmp_path / 'run' / name).st_mode & 0o777 == 0o644


def test_load_from_a_published_checkpoint_initialises_the_student(
        tmp_path, toy_root):
    cfg = write_tiny_config(str(tmp_path), 'toy_dacs_daformer_mitb0.py',
                            toy_root, iters=1, ckpt_interval=1)
    train_main([cfg, '--work-dir', str(tmp_path / 'run'), '--no-validate'])
    published = publish(str(tmp_path / 'run' / 'iter_1.pth'),
                        str(tmp_path / 'student.pth'))
    weights = _state(published)

    from mmseg.engine.build import build_runner
    from mmseg.config import load_config
    from mmseg.engine.toy_assets import prepare_toy_assets
    from tools.train import apply_command_line, parse_args
    args = parse_args([cfg, '--load-from', published])
    config = load_config(cfg)
    apply_command_line(config, args)
    prepare_toy_assets(config)
    runner = build_runner(config, str(tmp_path / 'init'), validate=False)
    runner.load_or_resume()
    _assert_same_tensors(weights, runner.model.model.state_dict())

    # resuming from it cannot work: refused, naming the flag that does
    with pytest.raises(CheckpointLoadError,
                       match='not a training checkpoint .*--load-from'):
        train_main([cfg, '--work-dir', str(tmp_path / 'r'), '--no-validate',
                    '--resume-from', published])
    # --resume with nothing to resume is no silent fresh start
    with pytest.raises(CheckpointLoadError, match='nothing to resume'):
        train_main([cfg, '--work-dir', str(tmp_path / 'empty'),
                    '--no-validate', '--resume'])
    # a checkpoint of another network stops the run
    torch.save({'state_dict': {'fc.weight': torch.ones(2, 2)}},
               tmp_path / 'other.pth')
    with pytest.raises(CheckpointLoadError, match='only 0 of'):
        train_main([cfg, '--work-dir', str(tmp_path / 'o'), '--no-validate',
                    '--load-from', str(tmp_path / 'other.pth')])
    assert not glob.glob(str(tmp_path / 'o' / '*.pth'))


def test_images_of_one_name_in_two_sequences_get_one_file_each(
        tmp_path, toy_root, capsys):
    cfg = write_tiny_config(str(tmp_path), 'toy_srconly_daformer_mitb0.py',
                            toy_root, iters=1, ckpt_interval=1)
    train_main([cfg, '--work-dir', str(tmp_path / 'run'), '--no-validate'])
    ckpt = str(tmp_path / 'run' / 'iter_1.pth')
    # a copy of the test set with one image name in two sequence folders
    data = tmp_path / 'data'
    shutil.copytree(osp.join(toy_root, 'dark_zurich'), data / 'dark_zurich')
    test_dir = data / 'dark_zurich' / 'rgb_anon' / 'test' / 'night'
    first = sorted(glob.glob(str(test_dir / '*' / '*.png')))[0]
    os.makedirs(test_dir / 'GOPR9999')
    shutil.copy(first, test_dir / 'GOPR9999' / osp.basename(first))
    options = ['--cfg-options',
               f'data.test_set.data_root={data / "dark_zurich"}']
    out = tmp_path / 'preds'
    expected = (f'GOPR9999/{osp.basename(first)} would both be written'
                '.*keep_subdirs=True to write each.*nothing was written')
    with pytest.raises(OutputCollisionError, match=expected):
        run_test([cfg, ckpt, '--test-set', '--format-only', '--eval-option',
                  f'imgfile_prefix={out}', 'to_label_id=False'] + options)
    assert not out.exists() or not any(out.iterdir())  # checked, empty
    run_test([cfg, ckpt, '--test-set', '--format-only', '--eval-option',
              f'imgfile_prefix={out}', 'to_label_id=False',
              'keep_subdirs=True'] + options)
    written = glob.glob(str(out / '**' / '*.png'), recursive=True)
    assert len(written) == 3
    assert f'wrote 3 prediction PNGs to {out}' in capsys.readouterr().out

    # SeCo's flat pseudo-label folder: the same names stop the dump
    from tools.seco.dump_pseudo_labels import main as dump
    labels = tmp_path / 'seco'
    with pytest.raises(OutputCollisionError, match='would both be written'):
        dump([cfg, ckpt, str(labels), '--dataset-key', 'data.test_set',
              '--device', 'cpu'] + options)
    assert not labels.exists()
