"""Data-parallel benchmarking: tools/benchmark.py under torchrun (2 CPU
processes, gloo), the suite's 2-GPU case, its command line and its
scaling efficiency."""
import json
import os
import os.path as osp
import subprocess
import sys
import time

import pytest

import tools.benchmark as benchmark
from tools import benchmark_suite as suite

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_HRDA = osp.join('configs', 'toy', 'toy_hrda_daformer_mitb0.py')
TINY = ['--crop', '64', '64', '--batch', '1', '--iters', '2', '--warmup',
        '1', '--device', 'cpu', '--cfg-options', 'toy_pretrained=None']
TORCHRUN_VARS = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE',
                 'MASTER_ADDR', 'MASTER_PORT', 'GROUP_RANK', 'ROLE_RANK',
                 'TORCHELASTIC_RUN_ID')


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in TORCHRUN_VARS}
    env.update(OMP_NUM_THREADS='1', **extra)
    return env


def test_two_gloo_processes_time_the_uda_step_and_rank_0_reports():
    """A real 2-process run: one JSON report on stdout (rank 0's), the
    job's step times and every rank's peak memory."""
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nnodes', '1',
         '--nproc_per_node', '2', '--master_port', str(suite.free_port()),
         osp.join('tools', 'benchmark.py'), TOY_HRDA, '--uda',
         '--launcher', 'pytorch', *TINY],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)  # the whole stdout: one report
    assert report['world_size'] == 2 and report['backend'] == 'gloo'
    assert report['launcher'] == 'pytorch' and report['global_batch'] == 2
    assert report['uda'] is True and report['threads'] == 1
    assert report['median_s_per_iter'] > 0 and len(report['times_s']) == 2
    per_rank = report['peak_memory_mib_per_rank']
    assert len(per_rank) == 2 and all(m > 0 for m in per_rank)
    assert report['peak_memory_mib'] == max(per_rank)
    assert len(report['median_s_per_iter_per_rank']) == 2
    assert len(report['memory_increase_mib_per_rank']) == 2


def test_launcher_outside_torchrun_is_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, osp.join('tools', 'benchmark.py'), TOY_HRDA,
         '--uda', '--launcher', 'pytorch', *TINY],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 1 and proc.stdout == ''
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith('benchmark.py: error: ')
    assert 'RANK' in lines[0] and 'torchrun' in lines[0]


def test_launcher_refuses_a_numbered_gpu():
    with pytest.raises(ValueError, match='give --device cuda'):
        benchmark.start_data_parallel('pytorch', None, 'cuda:1')


def test_launcher_needs_the_uda_step(capsys):
    with pytest.raises(SystemExit):
        benchmark.parse_args([TOY_HRDA, '--launcher', 'pytorch'])
    assert 'only with --uda' in capsys.readouterr().err


def test_merge_ranks_takes_each_steps_slowest_rank():
    ranks = [dict(times_s=[1.0, 3.0, 2.0], median_cpu_s=0.5,
                  first_step_s=4.0, peak_bytes=2 * 2**20,
                  increase_bytes=2**20),
             dict(times_s=[2.0, 1.0, 2.5], median_cpu_s=0.7,
                  first_step_s=3.0, peak_bytes=3 * 2**20,
                  increase_bytes=2**19)]
    job = benchmark.merge_ranks(ranks)
    assert job['times_s'] == [2.0, 3.0, 2.5] and job['median_s'] == 2.5
    assert job['median_s_per_rank'] == [2.0, 2.0]
    assert job['median_cpu_s'] == 0.7 and job['first_step_s'] == 4.0
    assert job['peak_bytes'] == 3 * 2**20
    assert job['peak_bytes_per_rank'] == [2 * 2**20, 3 * 2**20]
    assert job['increase_bytes'] == 2**20
    assert 'cuda_max_allocated_bytes' not in job
    one = benchmark.merge_ranks(ranks[:1])  # one process: its own figures
    assert one['times_s'] == [1.0, 3.0, 2.0] and one['median_s'] == 2.0
    with pytest.raises(ValueError, match='different numbers of steps'):
        benchmark.merge_ranks([ranks[0], dict(ranks[1], times_s=[1.0])])


def cases_by_name(gpus):
    return {c.name: c for c in suite.suite_cases(quick=True, gpus=gpus)}


def test_two_gpu_case_runs_on_two_gpus_and_is_skipped_on_one():
    assert cases_by_name(2)['dacs_step_2gpu_bf16'].skip_reason == ''
    reason = cases_by_name(1)['dacs_step_2gpu_bf16'].skip_reason
    assert reason.startswith('needs 2 CUDA GPUs (1 here)')
    case = cases_by_name(2)['dacs_step_2gpu_bf16']
    assert case.gpus == 2 and case.dtype == 'bf16' and case.mode == 'uda'
    single = cases_by_name(2)['hrda_step_bf16']  # equal per-GPU work
    assert (case.config, case.crop, case.batch) == \
        (single.config, single.crop, single.batch)
    assert case.options.endswith('2 GPUs')
    assert case.options_on('cpu').endswith('2 processes (gloo)')


def test_two_gpu_case_command_is_torchrun():
    case = cases_by_name(2)['dacs_step_2gpu_bf16']
    cmd = suite.case_command(case, 'cuda', 'py', port=29123)
    assert cmd[:3] == ['py', '-m', 'torch.distributed.run']
    assert cmd[cmd.index('--nproc_per_node') + 1] == '2'
    assert cmd[cmd.index('--master_port') + 1] == '29123'
    script = cmd.index(osp.join(ROOT, 'tools', 'benchmark.py'))
    assert script > cmd.index('--master_port')  # torchrun's options first
    assert cmd[script + 1] == case.config
    assert cmd[cmd.index('--launcher') + 1] == 'pytorch'
    assert '--uda' in cmd and cmd[cmd.index('--amp') + 1] == 'bf16'
    assert cmd.index('--launcher') < cmd.index('--cfg-options')
    port = int(suite.case_command(case, 'cuda')[
        cmd.index('--master_port') + 1])  # a free one by default
    assert 0 < port < 65536
    one = suite.case_command(cases_by_name(2)['hrda_step_bf16'], 'cuda',
                             'py')
    assert one[1] == osp.join(ROOT, 'tools', 'benchmark.py')
    assert '--launcher' not in one


def test_processes_share_the_suites_threads(monkeypatch):
    case = cases_by_name(2)['dacs_step_2gpu_bf16']
    monkeypatch.setenv('OMP_NUM_THREADS', '8')
    assert suite.case_environment(case)['OMP_NUM_THREADS'] == '4'
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    assert suite.case_environment(case)['OMP_NUM_THREADS'] == '1'
    assert suite.case_environment(cases_by_name(2)['hrda_step_bf16']) is None
    # without OMP_NUM_THREADS: the CPUs this process may use, not cpu_count
    monkeypatch.delenv('OMP_NUM_THREADS')
    monkeypatch.setattr('mmseg.utils.cpu_threads.usable_cpus', lambda: 6)
    assert suite.case_environment(case)['OMP_NUM_THREADS'] == '3'


def run_main_recording_cases(monkeypatch, tmp_path, *argv):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')  # main() fills in defaults
    monkeypatch.setenv('OMP_WAIT_POLICY', 'PASSIVE')
    seen = []

    def fake_run_case(case, device, timeout, guard):
        seen.append(case)
        return dict(name=case.name, device=device, dtype=case.dtype,
                    options=case.options_on(device), status='skipped',
                    reason=case.skip_reason or 'not run here')

    monkeypatch.setattr(suite, 'run_case', fake_run_case)
    suite.main(['--quick', '--device', 'cpu', '--out', str(tmp_path),
                *argv])
    return {c.name: c for c in seen}


def test_cpu_runs_the_two_gpu_case_only_when_named(monkeypatch, tmp_path):
    named = run_main_recording_cases(
        monkeypatch, tmp_path, '--cases', 'dacs_step_2gpu_bf16')
    assert named['dacs_step_2gpu_bf16'].skip_reason == ''
    everything = run_main_recording_cases(monkeypatch, tmp_path)
    assert 'needs 2 CUDA GPUs' in \
        everything['dacs_step_2gpu_bf16'].skip_reason


def test_two_gpu_row_options_on_cpu(monkeypatch):
    """Run on a CPU: '2 processes (gloo)'; skipped: as planned, 2 GPUs."""
    case = cases_by_name(0)['dacs_step_2gpu_bf16']
    row = suite.run_case(case, 'cpu', 1, None)
    assert row['status'] == 'skipped' and row['options'].endswith('2 GPUs')
    monkeypatch.setattr(suite, 'case_command', lambda *a: [
        sys.executable, '-c', 'print("{}")'])
    case.skip_reason = ''
    row = suite.run_case(case, 'cpu', 60, None)
    assert row['status'] == 'ok'
    assert row['options'].endswith('2 processes (gloo)')


def ok_row(name, median, batch=2, options='256x256, batch 2'):
    report = dict(median_s_per_iter=median, median_cpu_s_per_iter=median,
                  spread_s=0.1, peak_memory_mib=700.0, batch=batch,
                  crop=[256, 256], device='cuda')
    return dict(name=name, device='cuda', dtype='bf16', options=options,
                status='ok', report=report)


def test_scaling_efficiency_in_the_report(tmp_path):
    rows = [ok_row('hrda_step_bf16', 2.0),
            ok_row('dacs_step_2gpu_bf16', 2.5,
                   options='256x256, batch 2, 2 GPUs')]
    assert suite.scaling_efficiencies(rows) == {'dacs_step_2gpu_bf16': 0.8}
    env = dict(torch='2', cuda='12', gpu='H100', cpu='cpu', threads='t',
               host_allocator='retain', load_average=(0.0, 0.0, 0.0),
               date='today')
    suite.write_report(str(tmp_path), env, rows, quick=False)
    data = json.loads((tmp_path / 'report.json').read_text())
    assert data['ratios']['dacs_2gpu_scaling_efficiency'] == 0.8
    text = (tmp_path / 'report.md').read_text()
    assert '| dacs_step_2gpu_bf16 | cuda | bf16 | 256x256, batch 2, 2 GPUs ' \
        '| 2.5 (±0.05) | 2.5 | 700 MiB |  | ok; scaling efficiency 0.80 ' \
        '(vs hrda_step_bf16) |' in text
    assert '| hrda_step_bf16 |' in text and '| ok |' in text
    # not at equal per-GPU batch, or the single-GPU step did not run
    assert suite.scaling_efficiencies(
        [rows[0], ok_row('dacs_step_2gpu_bf16', 2.5, batch=1)]) == {}
    oom = dict(rows[0], status='out of memory', asked_mib=1.0)
    assert suite.scaling_efficiencies([oom, rows[1]]) == {}
    assert 'dacs_2gpu_scaling_efficiency' not in suite.ratios([oom, rows[1]])


def test_timeout_ends_torchruns_workers(monkeypatch, tmp_path):
    """torchrun starts its workers in sessions of their own: a timed-out
    data-parallel case must end them too, not only torchrun."""
    script = tmp_path / 'sleeper.py'
    script.write_text(
        'import os, sys, time\n'
        f'open(os.path.join({str(tmp_path)!r}, "pid%s" % '
        'os.environ["RANK"]), "w").write(str(os.getpid()))\n'
        'time.sleep(300)\n')
    case = suite.Case('x', 'cfg.py', 'uda', gpus=2)
    monkeypatch.setattr(suite, 'case_command', lambda *a: [
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node',
        '2', '--master_port', str(suite.free_port()), str(script)])
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    row = suite.run_case(case, 'cpu', 12, None)
    assert row['status'] == 'timeout'
    pids = [int((tmp_path / f'pid{r}').read_text()) for r in range(2)]
    deadline = time.time() + 10
    while time.time() < deadline and any(map(alive, pids)):
        time.sleep(0.2)
    assert not any(map(alive, pids))


def alive(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().split(') ')[1][0] != 'Z'  # a zombie has ended
    except FileNotFoundError:
        return False
