"""Launch-side pieces of data-parallel training that need no second
process: backend choice, SLURM environment, wrapper keys, SyncBN, config
checks."""
import pytest
import torch
from mmengine.config import Config

from mmseg.engine import distributed
from mmseg.engine.build import auto_scale_lr_from
from mmseg.errors import ConfigError
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from uda_fixtures import tiny_model_cfg

register_all_modules()


def test_backend_is_chosen_from_the_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert distributed.resolve_backend(None) == 'gloo'
    assert distributed.resolve_backend('auto') == 'gloo'
    with pytest.raises(ValueError, match='needs CUDA'):
        distributed.resolve_backend('nccl')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert distributed.resolve_backend('auto') == 'nccl'
    with pytest.raises(ValueError, match='mpi2'):
        distributed.resolve_backend('mpi2')


def test_unknown_dist_params_and_launcher_are_refused():
    with pytest.raises(ValueError, match='port'):
        distributed.init_distributed('pytorch', dict(backend='gloo',
                                                     port=1))
    with pytest.raises(ValueError, match='launcher'):
        distributed.init_distributed('ssh', dict(backend='gloo'))


def test_pytorch_launcher_outside_torchrun_names_what_is_missing(
        monkeypatch):
    for name in distributed.LAUNCHER_VARIABLES['pytorch']:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    with pytest.raises(ConfigError, match=r'--launcher pytorch: RANK, '
                       r'WORLD_SIZE, MASTER_PORT not set \(start the job '
                       r'with torchrun'):
        distributed.init_distributed('pytorch', dict(backend='gloo'))
    distributed.check_launcher_environment('pytorch', dict(
        RANK='0', WORLD_SIZE='2', MASTER_ADDR='h', MASTER_PORT='1'))


@pytest.mark.parametrize('launcher,named,start', [
    ('slurm', 'SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NODELIST',
     'srun'),
    ('mpi', 'OMPI_COMM_WORLD_LOCAL_RANK, OMPI_COMM_WORLD_RANK, '
     'OMPI_COMM_WORLD_SIZE, MASTER_ADDR', 'mpirun'),
])
def test_every_launcher_names_its_missing_variables(launcher, named, start):
    with pytest.raises(ConfigError) as err:
        distributed.check_launcher_environment(launcher, {})
    assert str(err.value).startswith(f'--launcher {launcher}: {named} not '
                                     f'set (start the job with {start}')
    distributed.check_launcher_environment('none', {})  # nothing to check


def test_mpi_launcher_outside_mpirun_is_refused_before_mmengine(
        monkeypatch):
    for name in distributed.LAUNCHER_VARIABLES['mpi']:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match='OMPI_COMM_WORLD_LOCAL_RANK'):
        distributed.init_distributed('mpi', dict(backend='gloo'))


def test_slurm_environment_gives_torch_env_variables():
    env = dict(SLURM_PROCID='5', SLURM_NTASKS='8', SLURM_LOCALID='1',
               SLURM_NODELIST='gpu[03-05,9]', PORT='29611')
    out = distributed.slurm_environment(env)
    assert out == dict(RANK='5', WORLD_SIZE='8', LOCAL_RANK='1',
                       MASTER_ADDR='gpu03', MASTER_PORT='29611')
    env['MASTER_ADDR'] = 'head'
    assert distributed.slurm_environment(env)['MASTER_ADDR'] == 'head'
    with pytest.raises(ConfigError, match='SLURM_PROCID'):
        distributed.slurm_environment({})


@pytest.mark.parametrize('nodelist,host', [('node7', 'node7'),
                                           ('a[1-2],b3', 'a1'),
                                           ('gpu[10,12]', 'gpu10')])
def test_first_slurm_host(nodelist, host):
    assert distributed.first_host_of(nodelist) == host


def tiny_dacs():
    model = MODELS.build(dict(type='DACS', model=tiny_model_cfg(),
                              max_iters=4))
    model.init_weights()
    return model


def test_wrapper_keeps_checkpoint_keys_and_modes():
    model = tiny_dacs()
    wrapped = distributed.UDADataParallel(model)
    assert list(wrapped.state_dict()) == list(model.state_dict())
    assert wrapped.module is model
    wrapped.load_state_dict(model.state_dict())
    wrapped.train(False)
    assert not model.training and not model.model.training


def test_one_process_run_reverts_syncbn_and_is_not_wrapped():
    cfg = tiny_model_cfg()
    cfg['decode_head']['decoder_params']['fusion_cfg']['norm_cfg'] = dict(
        type='SyncBN', requires_grad=True)
    model = MODELS.build(dict(type='DACS', model=cfg, max_iters=4))
    assert any(isinstance(m, torch.nn.SyncBatchNorm)
               for m in model.modules())
    out = distributed.wrap_for_data_parallel(model, 'cpu')
    assert not isinstance(out, distributed.UDADataParallel)
    assert not any(isinstance(m, torch.nn.SyncBatchNorm)
                   for m in out.modules())
    assert any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
               for m in out.teacher.modules())


def test_gradient_averaging_is_a_no_op_in_one_process():
    param = torch.nn.Parameter(torch.ones(3))
    param.grad = torch.full((3,), 2.0)
    distributed.average_gradients([param])
    assert torch.equal(param.grad, torch.full((3,), 2.0))
    assert distributed.gather_rng_states('x') == ['x']
    assert 'world size 1, 2 samples per GPU, global batch 2' in \
        distributed.describe_global_batch(2)


def test_rng_state_of_rank_falls_back_to_rank_zero():
    assert distributed.rng_state_of_rank({'rng_state': 'r0'}) == 'r0'
    assert distributed.rng_state_of_rank(
        {'rng_state': 'r0', 'rng_states': ['r0', 'r1']}) == 'r0'


def test_auto_scale_lr_is_checked():
    assert auto_scale_lr_from(Config(dict())) is None
    assert auto_scale_lr_from(Config(dict(auto_scale_lr=dict(
        enable=False)))) == dict(enable=False)
    with pytest.raises(ConfigError, match='base_batch_size'):
        auto_scale_lr_from(Config(dict(auto_scale_lr=dict(enable=True))))
    with pytest.raises(ConfigError, match='unknown'):
        auto_scale_lr_from(Config(dict(auto_scale_lr=dict(
            enable=True, base_batch_size=8, bsz=3))))


def test_step_hook_is_removed_after_the_block():
    from uda_fixtures import optim_wrapper_for
    model = tiny_dacs()
    optim_wrapper = optim_wrapper_for(model)
    with distributed.gradients_averaged_before_step(optim_wrapper, []):
        assert 'step' in vars(optim_wrapper)
        optim_wrapper.step()
    assert 'step' not in vars(optim_wrapper)


@pytest.mark.parametrize('tool,extra', [
    ('train.py', ['--work-dir', 'WORK_DIR']),
    ('test.py', ['CHECKPOINT', '--eval', 'mIoU']),
])
def test_tools_refuse_a_launcher_before_any_work(tool, extra, tmp_path):
    """``--launcher pytorch`` outside torchrun ends in one line before the
    tool loads a config, writes a work dir or prepares toy assets."""
    import os
    import os.path as osp
    import subprocess
    import sys
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    ckpt = tmp_path / 'model.pth'
    ckpt.write_bytes(b'')
    work_dir = tmp_path / 'wd'
    env = {k: v for k, v in os.environ.items()
           if k not in distributed.LAUNCHER_VARIABLES['pytorch']}
    cmd = [sys.executable, osp.join('tools', tool),
           'configs/toy/toy_srconly_daformer_mitb0.py',
           *[dict(CHECKPOINT=str(ckpt), WORK_DIR=str(work_dir)).get(a, a)
             for a in extra], '--launcher', 'pytorch']
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip() == (
        f'{tool}: error: --launcher pytorch: RANK, WORLD_SIZE, MASTER_ADDR, '
        'MASTER_PORT not set (start the job with torchrun, e.g. '
        'tools/dist_train.sh, or leave out --launcher)')
    assert proc.stdout == '' and not work_dir.exists()
