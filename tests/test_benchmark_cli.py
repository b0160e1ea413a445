"""tools/benchmark.py flags on a toy config: --amp, --cfg-options, --crop,
--batch, --uda; the JSON keys it prints."""
import json
import os.path as osp

import pytest

import tools.benchmark as benchmark

TOY = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
               'configs', 'toy')
FAST = ['--iters', '1', '--warmup', '0', '--device', 'cpu', '--batch', '1']
KEYS = {'median_s_per_iter', 'median_cpu_s_per_iter', 'peak_memory_mib',
        'memory_increase_mib'}


@pytest.fixture
def built(monkeypatch):
    """The models the benchmark builds."""
    models = []
    real = benchmark.build_model

    def spy(*args, **kwargs):
        models.append(real(*args, **kwargs))
        return models[-1]

    monkeypatch.setattr(benchmark, 'build_model', spy)
    return models


def run(capsys, *argv):
    report = benchmark.main(list(argv))
    out = capsys.readouterr().out  # model-building logs, then the JSON
    printed = json.loads(out[out.rindex('{\n "config"'):])
    assert printed == json.loads(json.dumps(report))
    assert KEYS <= set(report) and report['median_s_per_iter'] > 0
    return report


def test_bare_amp_is_bf16_and_crop_batch_options_apply(capsys, built):
    report = run(capsys, osp.join(TOY, 'toy_dacs_daformer_mitb0.py'),
                 '--crop', '32', '48', '--amp', *FAST, '--cfg-options',
                 'toy_pretrained=None')
    assert report['amp'] == 'bf16' and report['uda'] is False
    assert report['crop'] == [32, 48] and report['batch'] == 1
    assert 'cuda_max_allocated_mib' not in report  # CUDA only


def test_cfg_options_reach_the_model_for_a_uda_step(capsys, built):
    report = run(capsys, osp.join(TOY, 'toy_dacs_daformer_mitb0.py'),
                 '--uda', '--crop', '32', '32', *FAST, '--iters', '0',
                 '--cfg-options',
                 'toy_pretrained=None', 'model.backbone.with_cp=True',
                 'model.decode_head.with_cp=True')
    assert report['uda'] is True
    assert report['median_s_per_iter'] == report['first_step_s']
    assert report['cfg_options']['model.backbone.with_cp'] is True
    uda = built[-1]
    assert uda.model.backbone.with_cp and uda.model.decode_head.with_cp
    assert uda.teacher.model.backbone.with_cp  # harmless: no grad there


def test_fp16_on_cpu_is_refused(capsys):
    with pytest.raises(SystemExit):
        benchmark.main([osp.join(TOY, 'toy_dacs_daformer_mitb0.py'),
                        '--amp', 'fp16', '--device', 'cpu'])
    assert '--amp fp16 needs a CUDA device' in capsys.readouterr().err


def test_count_flops_counts_forward_and_backward_matmuls():
    import torch

    from mmseg.utils.benchmarking import count_flops
    layer = torch.nn.Linear(8, 4, bias=False)
    x = torch.randn(3, 8)

    def step():
        layer(x).sum().backward()

    # forward 2*3*8*4, backward (weight gradient only: x needs no grad)
    assert count_flops(step) == 2 * (2 * 3 * 8 * 4)


def test_inference_times_the_test_cfg_inference(capsys, built):
    report = run(capsys, osp.join(TOY, 'toy_hrda_daformer_mitb0.py'),
                 '--inference', '--crop', '64', '96', *FAST,
                 '--cfg-options', 'toy_pretrained=None')
    assert report['inference'] is True and report['uda'] is False
    model = built[-1]
    assert not model.training and model.test_cfg['mode'] == 'slide'


def test_compile_flag_compiles_the_networks(capsys, built):
    report = run(capsys, osp.join(TOY, 'toy_dacs_daformer_mitb0.py'),
                 '--crop', '32', '32', *FAST, '--iters', '0', '--compile',
                 '--cfg-options', 'toy_pretrained=None',
                 'compile.backend=eager')
    assert report['compile'] is True
    assert type(built[-1].backbone.forward).__name__ == 'EagerFallback'


def test_uda_and_inference_exclude_each_other(capsys):
    with pytest.raises(SystemExit):
        benchmark.main([osp.join(TOY, 'toy_dacs_daformer_mitb0.py'),
                        '--uda', '--inference'])


def test_notices_and_child_output_go_to_stderr(capfd):
    import subprocess
    import sys
    with benchmark.stdout_to_stderr():
        print('a notice')
        subprocess.run([sys.executable, '-c', 'print("child log")'],
                       check=True)
    print('{"report": 1}')
    out, err = capfd.readouterr()
    assert out == '{"report": 1}\n'
    assert 'a notice' in err and 'child log' in err


class _FakeStep:
    """A UDA-step-shaped object: train_step calls stages and backward."""

    def __init__(self):
        self.calls = []

    def train_step(self):
        self.source_stage()
        self.backward(None, {}, '')
        self.backward(None, {}, 'mix')

    def source_stage(self):
        self.calls.append('source')

    def backward(self, optim_wrapper, losses, prefix=''):
        self.calls.append(f'backward {prefix}')


class _FakeWrapper:
    def step(self):
        pass


def test_stage_timer_labels_stages_and_skips_the_warmup():
    from mmseg.utils.benchmarking import StageTimer
    model = _FakeStep()
    timer = StageTimer('cpu')
    timer.wrap_uda_step(model, _FakeWrapper())
    timer.reset_after(1)  # one warm-up step
    model.train_step()
    assert timer.median_ms() == {}
    model.train_step()
    model.train_step()
    assert set(timer.median_ms()) == {
        'step', 'source stage (+ NFNet prompt stage)', 'backward[src]',
        'backward[mix]'}
    assert set(timer.median_ms(cpu=True)) == set(timer.median_ms())
    assert len(timer.times['step']) == 2
    assert model.calls[-3:] == ['source', 'backward ', 'backward mix']
