"""Command-line tools: publish_model, get_param_count, benchmark, experiments."""
import os.path as osp

import pytest
import torch

from mmseg.utils.checkpoint_io import atomic_torch_save, load_checkpoint_file
from tools.benchmark import main as benchmark_main
from tools.get_param_count import main as param_count_main
from tools.publish_model import publish

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY = osp.join(REPO, 'configs', 'toy')


def test_publish_keeps_only_the_student(tmp_path):
    ckpt = {
        'meta': {'iter': 3, 'cfg': 'x'},
        'state_dict': {
            'model.backbone.w': torch.ones(2),
            'teacher.model.backbone.w': torch.zeros(2),
            'feature_distance.imnet_model.backbone.w': torch.zeros(2),
            '_extra_state': {'iteration': 3}
        },
        'optimizer': {'state': {}}
    }
    src = str(tmp_path / 'iter_3.pth')
    atomic_torch_save(ckpt, src)
    final = publish(src, str(tmp_path / 'release.pth'))
    assert osp.basename(final).startswith('release-')
    out = load_checkpoint_file(final)
    assert list(out['state_dict']) == ['backbone.w']
    assert 'optimizer' not in out and out['meta']['iter'] == 3


def test_param_count_prints_encoder_decoder_total(capsys):
    param_count_main([osp.join(TOY, 'toy_dacs_daformer_mitb0.py')])
    text = capsys.readouterr().out
    assert 'encoder' in text.lower() and 'total' in text.lower()


@pytest.mark.slow
def test_benchmark_times_a_uda_step():
    report = benchmark_main([
        osp.join(TOY, 'toy_hrda_daformer_mitb0.py'), '--uda', '--crop', '64',
        '64', '--iters', '1', '--warmup', '0', '--device', 'cpu',
        '--cfg-options', 'model.hr_crop_size=[32,32]', 'toy_pretrained=None'
    ])
    assert report['uda'] and report['median_s_per_iter'] > 0


def test_experiments_generate_configs_as_data():
    from experiments import generate_experiment_cfgs
    cfgs = generate_experiment_cfgs(2)
    names = [c['name'] for c in cfgs]
    assert len(cfgs) == 24 and len(set(names)) == 24
    full = [c for c in cfgs if c['name'] == 'toy128_eglp-full_mitb0_s1'][0]
    assert full['seed'] == 1 and full['uda']['type'] == 'EGLP'
    assert full['uda']['dms']['mode'] == 'soft'
    assert full['uda']['test_model'] == 'nfnet_teacher'
    assert full['uda']['dms']['similarity']['metric'] == 'prototype'
    assert full['model']['pretrained'] == full['toy_pretrained']['path']
    pig = [c for c in cfgs if c['name'] == 'toy128_nfnet-fis-lpips_mitb0_s0'][0]
    assert pig['uda']['dms']['similarity']['metric'] == 'lpips'
    assert pig['uda']['dms']['similarity']['ema'] is None
    night = [c for c in cfgs if c['name'] == 'toy128_eglp-full-rcm-night_mitb0_s2'][0]
    rcm = night['uda']['mix_augmenters'][0]
    assert rcm['use_prompt'] and rcm['night_style']
    base = [c for c in cfgs if c['name'] == 'toy128_hrda_mitb0_s0'][0]
    assert 'type' not in base.get('uda', {})
    with pytest.raises(ValueError, match='unknown experiment id'):
        generate_experiment_cfgs(12345)


def test_run_experiments_dry_run_writes_loadable_configs(tmp_path,
                                                         monkeypatch):
    import run_experiments
    from mmseg.config import load_config
    monkeypatch.setattr(run_experiments, 'GENERATED_DIR', str(tmp_path))
    paths = run_experiments.main(['--exp', '1', '--dry-run'])
    assert len(paths) == 12
    assert len(run_experiments.main(
        ["--exp", "1", "--dry-run", "--shard", "1/3"])) == 4
    more = run_experiments.main(['--exp', '1', '--dry-run', '--seeds', '3', '4'])
    assert len(more) == 8 and all('_s3_' in p or '_s4_' in p for p in more)
    cfg = load_config(paths[-1])
    assert cfg.uda.mask_mode == 'separate' and cfg.seed == 2
    assert cfg.work_dir.startswith('work_dirs/local-exp1/')


def test_collect_results_groups_seeds_from_logs(tmp_path):
    from tools.collect_results import main as collect_main
    for seed, miou in ((0, 7.0), (1, 9.0)):
        run = tmp_path / f'261121_1200_toy_dacs_s{seed}_abcde' / '20261121'
        run.mkdir(parents=True)
        (run / '20261121.log').write_text(
            'Iter(val) [1/1]  aAcc: 50.0  mIoU: 1.0\n'
            f'Iter(val) [12/12]  aAcc: 60.0  mIoU: {miou}  '
            'IoU.road: 70.0  IoU.traffic light: nan\n')
    (tmp_path / 'not_a_run').mkdir()
    lines = collect_main([str(tmp_path), '--classes', 'road'])
    assert len(lines) == 2
    method, n, mean, std, seeds, road = lines[1].split(' | ')
    assert (method, n, mean, seeds, road) == ('toy_dacs', '2', '8.00',
                                              '7.00 9.00', '70.00')
    assert std == '1.41'


def test_test_model_comes_from_the_flag_then_the_config():
    import argparse

    from mmengine.config import Config

    from mmseg.models.uda.eglp import EGLP
    from tools.test import TEST_MODELS, deployed_network
    assert TEST_MODELS == EGLP.TEST_MODELS  # the flag offers every network
    uda = Config(dict(uda=dict(type='EGLP', test_model='nfnet_teacher')))
    plain = Config(dict(model=dict(type='EncoderDecoder')))
    flag = argparse.Namespace
    assert deployed_network(uda, flag(test_model=None)) == 'nfnet_teacher'
    assert deployed_network(uda, flag(test_model='fusion')) == 'fusion'
    assert deployed_network(plain, flag(test_model=None)) == 'student'
    with pytest.raises(SystemExit, match='no uda section'):
        deployed_network(plain, flag(test_model='teacher'))
