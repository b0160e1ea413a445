"""CPU thread defaults: the user's environment wins, the defaults fill in."""
import os
import subprocess
import sys

from mmseg.utils.cpu_threads import (DEFAULTS_MARKER, apply_cpu_thread_defaults,
                                     cgroup_cpu_quota, describe_cpu_threads,
                                     thread_defaults, usable_cpus)


def test_defaults_fill_an_empty_environment():
    # a machine already busy at start: threads sleep at once
    assert thread_defaults({}, 3, load=1.2) == {'OMP_NUM_THREADS': '3',
                                                'OMP_WAIT_POLICY': 'PASSIVE'}
    # a quiet machine keeps libgomp's spin-then-sleep (fastest there)
    assert thread_defaults({}, 3, load=0.1) == {'OMP_NUM_THREADS': '3'}


def test_user_values_win():
    env = {'OMP_NUM_THREADS': '1', 'OMP_WAIT_POLICY': 'active'}
    assert thread_defaults(env, 8, load=3.0) == {}


def test_blank_value_counts_as_unset():
    assert thread_defaults({'OMP_NUM_THREADS': ' '}, 2, load=0.0)['OMP_NUM_THREADS'] \
        == '2'


def test_a_spin_setting_keeps_the_wait_policy_unset():
    for var in ('GOMP_SPINCOUNT', 'KMP_BLOCKTIME'):
        assert 'OMP_WAIT_POLICY' not in thread_defaults({var: '1000'}, 2,
                                                          load=3.0)


def test_apply_sets_only_missing_values_and_reports_them():
    env = {'OMP_NUM_THREADS': '4'}
    setup = apply_cpu_thread_defaults(env, cpus=2, torch_loaded=False,
                                      load=2.0)
    assert env['OMP_NUM_THREADS'] == '4'
    assert env['OMP_WAIT_POLICY'] == 'PASSIVE'
    assert setup.defaults == ['OMP_WAIT_POLICY']
    assert setup.num_threads == '4' and setup.before_torch
    line = describe_cpu_threads(env, cpus=2)
    assert line.startswith('CPU threads 4 (set by you) of 2 usable cores')
    assert 'wait policy PASSIVE (default)' in line


def test_apply_twice_keeps_the_defaults_labelled_as_defaults():
    env = {}
    apply_cpu_thread_defaults(env, cpus=2, torch_loaded=False, load=2.0)
    child = dict(env)  # a child process inherits the parent's choice
    setup = apply_cpu_thread_defaults(child, cpus=2, torch_loaded=True,
                                      load=2.0)
    assert setup.defaults == ['OMP_NUM_THREADS', 'OMP_WAIT_POLICY']
    assert not setup.before_torch
    assert child[DEFAULTS_MARKER] == 'OMP_NUM_THREADS,OMP_WAIT_POLICY'
    assert 'CPU threads 2 (default)' in describe_cpu_threads(child, cpus=2)


def test_describe_names_spin_settings():
    line = describe_cpu_threads({'GOMP_SPINCOUNT': '10000'}, cpus=2)
    assert ('wait policy unset (libgomp spins, then sleeps) '
            'GOMP_SPINCOUNT=10000') in line
    assert 'wait policy PASSIVE (set by you)' in describe_cpu_threads(
        {'OMP_WAIT_POLICY': 'PASSIVE'}, cpus=2)


def test_usable_cpus_is_affinity_capped_by_quota():
    assert usable_cpus(affinity=8, quota=3) == 3
    assert usable_cpus(affinity=2, quota=16) == 2


def test_cgroup_quota_parsing(tmp_path):
    path = tmp_path / 'cpu.max'
    path.write_text('150000 100000\n')
    assert cgroup_cpu_quota(str(path)) == 2
    path.write_text('max 100000\n')
    assert cgroup_cpu_quota(str(path)) is None
    assert cgroup_cpu_quota(str(tmp_path / 'missing')) is None
    path.write_text('garbage\n')
    assert cgroup_cpu_quota(str(path)) is None


def test_defaults_reach_torch_when_applied_before_import():
    """In a fresh process the defaults set before ``import torch`` reach
    OpenMP; a user's OMP_NUM_THREADS wins."""
    code = ('from mmseg.utils.cpu_threads import apply_cpu_thread_defaults;'
            'apply_cpu_thread_defaults(cpus=2, load=2.0);'
            'import torch, os;'
            'print(torch.get_num_threads(), os.environ["OMP_WAIT_POLICY"])')
    env = {k: v for k, v in os.environ.items()
           if k not in ('OMP_NUM_THREADS', 'OMP_WAIT_POLICY',
                        'GOMP_SPINCOUNT', 'KMP_BLOCKTIME', DEFAULTS_MARKER)}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, '-c', code], env=env, cwd=root,
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == ['2', 'PASSIVE']
    out = subprocess.run([sys.executable, '-c', code],
                         env=dict(env, OMP_NUM_THREADS='1'), cwd=root,
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == ['1', 'PASSIVE']


def test_environment_line_names_threads_allocator_and_autocast(monkeypatch):
    from mmengine import Config

    from mmseg.engine.build import environment_line
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    monkeypatch.delenv(DEFAULTS_MARKER, raising=False)
    line = environment_line(Config(dict(amp=dict(dtype='bfloat16'))))
    assert line.startswith('CPU threads 1 (set by you)')
    assert line.endswith('; host allocator retain; bf16 autocast on')
    assert environment_line(Config({})).endswith('autocast off (fp32)')
