"""2-process runs of tools/dist_train.sh, tools/train.py and tools/test.py
on tiny toy configs (CPU, gloo)."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from dist_harness import free_port, run_on_ranks
from e2e_config import REPO, write_tiny_config
from mmseg.utils.checkpoint_io import load_checkpoint_file

pytestmark = pytest.mark.slow

EGLP_EXTRA = ('uda = dict(dms=dict(similarity=dict(prototype=dict('
              'encoder=dict(pretrained=None)))))\n')


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('toy') / 'toy')


def train_worker(rank, world_size, argv):
    from tools.train import main
    main([*argv, '--launcher', 'pytorch'])
    return torch.initial_seed()


def evaluate_worker(rank, world_size, argv):
    from tools.test import main
    return main([*argv, '--launcher', 'pytorch'])


def dist_train_sh(cfg, work_dir, *args):
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()),
               OMP_NUM_THREADS='1')
    return subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), cfg, '2',
         '--work-dir', work_dir, *args],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=900)


def state(path):
    return load_checkpoint_file(path)['state_dict']


def assert_same_tensors(a, b):
    assert a.keys() == b.keys()
    different = [k for k, v in a.items()
                 if torch.is_tensor(v) and not torch.equal(v, b[k])]
    assert not different, different[:5]


@pytest.mark.parametrize('toy_config,extra', [
    ('toy_hrda_daformer_mitb0.py', ''),
    ('toy_eglp_hrda_daformer_mitb0.py', EGLP_EXTRA)])
def test_dist_train_sh_then_test_py(tmp_path, toy_root, toy_config, extra):
    cfg = write_tiny_config(str(tmp_path), toy_config, toy_root, extra=extra)
    work_dir = str(tmp_path / 'run')
    proc = dist_train_sh(cfg, work_dir, '--cfg-options',
                         'auto_scale_lr.enable=True',
                         'auto_scale_lr.base_batch_size=2')
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = open(glob.glob(osp.join(work_dir, '*', '*.log'))[0]).read()
    assert 'world size 2, 2 samples per GPU, global batch 4' in log
    assert 'Scaling the original LR by 2.0' in log
    assert len(glob.glob(osp.join(work_dir, '*', '*.log'))) == 1  # rank 0
    ckpt = osp.join(work_dir, 'iter_4.pth')
    assert set(os.listdir(work_dir)) >= {'iter_2.pth', 'iter_4.pth'}
    assert 'rng_states' in load_checkpoint_file(ckpt)
    from tools.test import main as run_test
    single = run_test([cfg, ckpt, '--eval', 'mIoU'])
    gathered = run_on_ranks(evaluate_worker, 2, init=False,
                            argv=[cfg, ckpt, '--eval', 'mIoU'])
    for result in gathered:
        assert result['mIoU'] == single['mIoU']
        assert result['aAcc'] == single['aAcc']


@pytest.fixture(scope='module')
def two_rank_run(tmp_path_factory, toy_root):
    tmp = tmp_path_factory.mktemp('two_rank')
    cfg = write_tiny_config(str(tmp), 'toy_hrda_daformer_mitb0.py', toy_root)
    seeds = run_on_ranks(train_worker, 2, init=False, argv=[
        cfg, '--work-dir', str(tmp / 'full'), '--no-validate'])
    return cfg, tmp, seeds


def test_ranks_seed_their_randomness_apart(two_rank_run):
    _, _, seeds = two_rank_run
    assert seeds[1] == seeds[0] + 1


def test_two_rank_resume_equals_the_uninterrupted_run(two_rank_run):
    cfg, tmp, _ = two_rank_run
    run_on_ranks(train_worker, 2, init=False, argv=[
        cfg, '--work-dir', str(tmp / 'resumed'), '--no-validate',
        '--resume-from', str(tmp / 'full' / 'iter_2.pth')])
    assert_same_tensors(state(str(tmp / 'full' / 'iter_4.pth')),
                        state(str(tmp / 'resumed' / 'iter_4.pth')))


def test_checkpoints_move_between_one_and_two_ranks(two_rank_run):
    cfg, tmp, _ = two_rank_run
    from tools.train import main as train_main
    # 2 ranks -> 1 process: same keys, resumes and trains on
    train_main([cfg, '--work-dir', str(tmp / 'one'), '--no-validate',
                '--resume-from', str(tmp / 'full' / 'iter_2.pth')])
    one = state(str(tmp / 'one' / 'iter_4.pth'))
    assert one.keys() == state(str(tmp / 'full' / 'iter_4.pth')).keys()
    assert one['_extra_state'] == {'iteration': 4}
    # 1 process -> 2 ranks
    run_on_ranks(train_worker, 2, init=False, argv=[
        cfg, '--work-dir', str(tmp / 'two'), '--no-validate',
        '--resume-from', str(tmp / 'one' / 'iter_4.pth'),
        '--cfg-options', 'runner.max_iters=6'])
    two = state(str(tmp / 'two' / 'iter_6.pth'))
    assert two.keys() == one.keys()
    assert two['_extra_state'] == {'iteration': 6}
