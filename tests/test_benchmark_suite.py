"""tools/benchmark_suite.py: cases, command lines, failure reports, tables."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from tools import benchmark_suite as suite

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def test_full_cases_cover_the_issue_list():
    cases = {c.name: c for c in suite.suite_cases(quick=False, gpus=0)}
    for prefix, config in (('hrda_step', suite.HRDA_CONFIG),
                           ('eglp_step', suite.EGLP_CONFIG)):
        for variant in ('fp32', 'bf16', 'bf16_cp', 'bf16_compile'):
            case = cases[f'{prefix}_{variant}']
            assert case.config == config and case.mode == 'uda'
            assert case.crop == (1024, 1024) and case.batch == 2
    assert cases['hrda_slide_inference_bf16'].crop == (1024, 2048)
    assert cases['hrda_source_only_fp32'].mode == 'supervised'
    assert 'needs 2 CUDA GPUs' in cases['dacs_step_2gpu_bf16'].skip_reason
    assert cases['eglp_step_fp32'].stage_times
    names = list(cases)
    assert names[-2:] == ['hrda_step_bf16_compile', 'eglp_step_bf16_compile']


def test_quick_cases_use_small_configs():
    for case in suite.suite_cases(quick=True):
        assert case.config in (suite.QUICK_HRDA_CONFIG,
                               suite.QUICK_EGLP_CONFIG)
        assert max(case.crop) <= 512
        assert osp.isfile(osp.join(ROOT, case.config))


def test_case_command_flags():
    cases = {c.name: c for c in suite.suite_cases(quick=False)}
    cmd = suite.case_command(cases['eglp_step_bf16_cp'], 'cuda', 'py')
    assert cmd[:3] == ['py', osp.join(ROOT, 'tools', 'benchmark.py'),
                       suite.EGLP_CONFIG]
    assert cmd[cmd.index('--crop') + 1:cmd.index('--crop') + 3] == \
        ['1024', '1024']
    assert ['--amp', 'bf16'] == cmd[cmd.index('--amp'):cmd.index('--amp') + 2]
    assert '--uda' in cmd and '--stage-times' in cmd
    opts = cmd[cmd.index('--cfg-options') + 1:]
    assert 'model.backbone.with_cp=True' in opts
    assert 'uda.dms.similarity.lpips.pretrained=False' in opts
    infer = suite.case_command(cases['hrda_slide_inference_fp32'], 'cpu')
    assert '--inference' in infer and '--amp' not in infer
    assert '--compile' in suite.case_command(
        cases['hrda_step_bf16_compile'], 'cpu')


def test_out_of_memory_is_reported_with_the_request():
    cuda = ('torch.OutOfMemoryError: CUDA out of memory. Tried to allocate '
            '2.50 GiB. GPU 0 has a total capacity of 79.1 GiB')
    assert suite.classify_failure(cuda) == dict(status='out of memory',
                                                asked_mib=2560.0)
    cpu = ("RuntimeError: DefaultCPUAllocator: can't allocate memory: you "
           'tried to allocate 1073741824 bytes. Error code 12')
    assert suite.classify_failure(cpu) == dict(status='out of memory',
                                               asked_mib=1024.0)
    other = suite.classify_failure('Traceback\n  x\nKeyError: boom\n')
    assert other == dict(status='failed', error='KeyError: boom')


def test_skipped_case_is_not_run():
    case = suite.Case('x', 'missing.py', 'uda', skip_reason='no GPU')
    row = suite.run_case(case, 'cpu', 1, None)
    assert row['status'] == 'skipped' and row['reason'] == 'no GPU'


def test_case_timeout_and_failure_rows(monkeypatch):
    """A case past its timeout is killed with its process group and
    reported; a failing one reports its last error line."""
    case = suite.Case('x', 'cfg.py', 'uda')
    monkeypatch.setattr(suite, 'case_command', lambda *a: [
        sys.executable, '-c', 'import time; time.sleep(30)'])
    row = suite.run_case(case, 'cpu', 0.5, None)
    assert row['status'] == 'timeout'
    monkeypatch.setattr(suite, 'case_command', lambda *a: [
        sys.executable, '-c', 'raise KeyError("boom")'])
    row = suite.run_case(case, 'cpu', 30, 2**34)
    assert row['status'] == 'failed' and row['error'] == "KeyError: 'boom'"
    monkeypatch.setattr(suite, 'case_command', lambda *a: [
        sys.executable, '-c', 'import os; os.abort()'])
    row = suite.run_case(case, 'cpu', 30, 2**34)  # under a memory guard
    assert row['status'] == 'out of memory'
    assert 'reached the 16.0 GiB guard (killed by SIGABRT)' in \
        suite.table_row(row)


def fake_row(name, median, cpu, peak, stages=None):
    report = dict(median_s_per_iter=median, median_cpu_s_per_iter=cpu,
                  spread_s=0.2, peak_memory_mib=peak)
    if stages:
        report.update(stage_ms=stages, stage_cpu_ms=stages)
    return dict(name=name, device='cpu', dtype='fp32',
                options='256x256, batch 2', status='ok', report=report)


def test_report_files_table_ratios_and_stages(tmp_path):
    rows = [fake_row('hrda_step_fp32', 3.0, 2.0, 2048.0),
            fake_row('hrda_source_only_fp32', 1.0, 0.8, 700.0),
            fake_row('eglp_step_fp32', 9.0, 6.0, 3000.0,
                     {'step': 9000.0, 'class similarity (DNIS)': 1500.0}),
            dict(name='eglp_step_bf16', device='cpu', dtype='bf16',
                 options='256x256', status='out of memory', asked_mib=4096.0)]
    env = dict(torch='2', cuda=None, gpu=None, cpu='cpu', threads='t',
               host_allocator='retain', load_average=(1.0, 1.0, 1.0),
               date='today')
    suite.write_report(str(tmp_path), env, rows, quick=True)
    data = json.loads((tmp_path / 'report.json').read_text())
    assert data['ratios']['uda_over_source_only'] == 3.0
    assert data['ratios']['eglp_over_hrda'] == 3.0
    text = (tmp_path / 'report.md').read_text()
    assert '| hrda_step_fp32 | cpu | fp32 | 256x256, batch 2 | 3 (±0.1) | 2 ' \
        '| 2.0 GiB |  | ok |' in text
    assert 'out of memory: asked for 4.0 GiB more' in text
    assert '| class similarity (DNIS) | 1500 / 1500 |' in text


def test_unknown_case_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')  # main() fills in defaults
    monkeypatch.setenv('OMP_WAIT_POLICY', 'PASSIVE')
    with pytest.raises(ValueError, match='unknown case'):
        suite.main(['--quick', '--cases', 'nope', '--out', str(tmp_path)])


def test_default_budgets():
    assert suite.default_budget_s('cuda', quick=False) == 480
    assert suite.default_budget_s('cuda', quick=True) == 480
    assert suite.default_budget_s('cpu', quick=True) == 540
    assert suite.default_budget_s('cpu', quick=False) is None
    # inside the 10 minutes the issue allows, with the grace period
    assert suite.QUICK_CPU_BUDGET_S + suite.TERMINATE_GRACE_S < 600


def test_budget_cuts_the_cases_left_and_zero_means_none(tmp_path,
                                                       monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    monkeypatch.setenv('OMP_WAIT_POLICY', 'PASSIVE')
    now, ran = [0.0], []
    monkeypatch.setattr(suite.time, 'perf_counter', lambda: now[0])

    def run(case_s, *extra):
        """main() with every case taking ``case_s`` seconds of the fake
        clock; (timeouts given, rows)."""
        now[0] = 0.0
        ran.clear()

        def fake_run(case, device, timeout, guard):
            if case.skip_reason:  # as run_case: not started
                return dict(name=case.name, status='skipped',
                            reason=case.skip_reason, options=case.options,
                            dtype=case.dtype, device=device)
            ran.append(timeout)
            now[0] += case_s
            return dict(name=case.name, status='failed', error='x',
                        options=case.options, dtype=case.dtype,
                        device=device)

        monkeypatch.setattr(suite, 'run_case', fake_run)
        out = suite.main(['--quick', '--device', 'cpu', '--out',
                          str(tmp_path), '--cases', 'hrda_step_fp32',
                          'hrda_step_bf16', 'eglp_step_fp32', *extra])
        return list(ran), [r['status'] for r in out['cases']], out

    # default 540 s: each case gets what is left as its timeout
    assert run(200)[:2] == ([540, 340, 140], ['failed'] * 3)
    timeouts, statuses, out = run(260)  # 20 s left: the third is skipped
    assert (timeouts, statuses) == ([540, 280], ['failed', 'failed',
                                                 'skipped'])
    assert out['cases'][2]['reason'] == (
        'under 30 s of the 540 s time budget left')
    assert out['environment']['budget_s'] == 540
    assert 'time budget 540 s;' in (tmp_path / 'report.md').read_text()
    assert run(400, '--budget-s', '0')[0] == [1800] * 3  # no budget
    with pytest.raises(ValueError, match='--budget-s'):
        run(1, '--budget-s', '-1')


@pytest.mark.slow
def test_quick_suite_runs_end_to_end(tmp_path):
    """The whole --quick suite on CPU: a report with a row per case, no
    case failing (cases past the time budget are cut or skipped)."""
    out = tmp_path / 'suite'
    subprocess.run([sys.executable, osp.join(ROOT, 'tools',
                                             'benchmark_suite.py'),
                    '--quick', '--out', str(out), '--device', 'cpu'],
                   cwd=ROOT, check=True, timeout=1500)
    data = json.loads((out / 'report.json').read_text())
    # the default --quick budget on a CPU bounds the whole suite (a case cut
    # at the budget gets the grace period to end its processes)
    assert data['environment']['suite_wall_s'] <= (
        suite.QUICK_CPU_BUDGET_S + suite.TERMINATE_GRACE_S + 15)
    names = [c.name for c in suite.suite_cases(quick=True)]
    assert [r['name'] for r in data['cases']] == names
    statuses = {r['name']: r['status'] for r in data['cases']}
    assert statuses['hrda_step_fp32'] == 'ok'
    # a loaded machine may cut the last (compile) cases at the budget
    assert set(statuses.values()) <= {'ok', 'skipped', 'timeout'}, statuses
    assert statuses['dacs_step_2gpu_bf16'] == 'skipped'
    assert 'hrda_step_fp32' in (out / 'report.md').read_text()
