"""The thread governor: contention signals from planted /proc files, its
decisions, the hook that runs it and the ``cpu_threads`` config key."""
import glob
import os
import os.path as osp
from types import SimpleNamespace

import pytest
from mmengine.config import Config

from mmseg.config.keys import check_option_key
from mmseg.engine.build import hooks_from
from mmseg.engine.cpu_threads_cfg import cpu_threads_from, cpu_threads_plan
from mmseg.engine.hooks.cpu_threads_hook import CpuThreadsHook
from mmseg.errors import ConfigError
from mmseg.utils import cpu_contention
from mmseg.utils.cpu_contention import (Sample, ThreadGovernor,
                                        adaptation_blocker, idle_cores,
                                        read_cpu_times,
                                        read_thread_schedstats,
                                        thread_run_seconds, wait_fraction)
from mmseg.utils.cpu_threads import DEFAULTS_MARKER

MS = 1_000_000  # ns


def _plant_tasks(root, stats):
    for tid, (run, wait) in stats.items():
        (root / tid).mkdir(parents=True, exist_ok=True)
        (root / tid / 'schedstat').write_text(f'{run} {wait} 17\n')


def test_schedstats_read_per_thread(tmp_path):
    _plant_tasks(tmp_path, {'100': (5 * MS, 1 * MS), '101': (7, 3)})
    (tmp_path / '102').mkdir()  # a thread that ended before its read
    assert read_thread_schedstats(str(tmp_path)) == {
        '100': (5 * MS, 1 * MS), '101': (7, 3)}


def test_schedstats_unreadable_is_an_oserror(tmp_path):
    with pytest.raises(OSError):
        read_thread_schedstats(str(tmp_path / 'missing'))
    (tmp_path / '100').mkdir()
    with pytest.raises(OSError, match='schedstat'):
        read_thread_schedstats(str(tmp_path))


def test_wait_fraction_over_threads():
    before = {'1': (100 * MS, 10 * MS), '2': (50 * MS, 0), 'gone': (9, 9)}
    # thread 1 ran 600 ms and waited 300 ms, thread 2 ran 300 ms waited
    # 100 ms, thread 3 started in between: 100 ms run, 100 ms wait
    after = {'1': (700 * MS, 310 * MS), '2': (350 * MS, 100 * MS),
             '3': (100 * MS, 100 * MS)}
    share, seconds = wait_fraction(before, after)
    assert share == pytest.approx(0.5 / 1.5)
    assert seconds == pytest.approx(1.5)
    assert thread_run_seconds(before, after) == pytest.approx(1.0)
    assert wait_fraction(after, after) == (None, 0.0)


PROC_STAT = """cpu  300 0 100 500 0 0 0 0 0 0
cpu0 100 0 50 {idle0} 10 0 0 0 0 0
cpu1 200 0 50 {idle1} 0 0 0 0 0 0
cpu2 0 0 0 1000 0 0 0 0 0 0
intr 1 2 3
"""


def test_idle_cores_of_the_affinity(tmp_path):
    stat = tmp_path / 'stat'
    stat.write_text(PROC_STAT.format(idle0=100, idle1=100))
    before = read_cpu_times(str(stat))
    assert before[0] == (260, 110) and before[1] == (350, 100)
    # cpu0: +100 ticks, all idle; cpu1: +100 ticks, a quarter idle
    after = {0: (360, 210), 1: (450, 125), 2: (1000, 1000)}
    assert idle_cores(before, after, [0, 1]) == pytest.approx(1.25)
    assert idle_cores(before, after, [1]) == pytest.approx(0.25)
    assert idle_cores(before, after, [2, 7]) == 0.0  # no ticks / unknown


def test_proc_stat_without_cpu_lines_is_an_oserror(tmp_path):
    stat = tmp_path / 'stat'
    stat.write_text('intr 1 2\n')
    with pytest.raises(OSError):
        read_cpu_times(str(stat))


class FakeSystem:
    """Readers and a clock whose next readings the test chooses."""

    def __init__(self, cpus=2):
        self.now = 0.0
        self.cpus = cpus
        self.sched = {'1': (0, 0), '2': (0, 0)}
        self.cpu = {c: (0, 0) for c in range(cpus)}
        self.fail = False
        self.calls = []

    def schedstats(self):
        if self.fail:
            raise OSError('/proc/self/task gone')
        return dict(self.sched)

    def cpu_times(self):
        return dict(self.cpu)

    def advance(self, seconds, run, wait, idle):
        """``seconds`` pass; our threads run ``run`` and wait ``wait``
        core-seconds in all, ``idle`` cores' worth of the CPUs is idle."""
        self.now += seconds
        per = len(self.sched)
        self.sched = {t: (r + int(run / per * 1e9), w + int(wait / per * 1e9))
                      for t, (r, w) in self.sched.items()}
        ticks = int(seconds * 100)
        self.cpu = {c: (a + ticks, i + int(ticks * idle / self.cpus))
                    for c, (a, i) in self.cpu.items()}

    def governor(self, threads=2, **kwargs):
        gov = ThreadGovernor(threads, list(range(self.cpus)),
                             self.calls.append, interval_s=10,
                             clock=lambda: self.now,
                             read_schedstats=self.schedstats,
                             read_cpu_times=self.cpu_times, **kwargs)
        assert gov.start() is None
        return gov


# an interval of 10 s on 2 cores:
QUIET = dict(run=19.6, wait=0.2, idle=0.2)  # our 2 threads alone
CONTENDED = dict(run=13.3, wait=6.7, idle=0.0)  # + a busy loop, 2 threads
HELD = dict(run=9.9, wait=0.1, idle=0.0)  # + the busy loop, 1 thread
FREED = dict(run=9.9, wait=0.0, idle=1.0)  # the busy loop ended, 1 thread


def test_governor_stays_on_a_quiet_machine():
    fake = FakeSystem()
    gov = fake.governor()
    for _ in range(5):
        fake.advance(10, **QUIET)
        assert gov.poll() is None
    assert fake.calls == [] and gov.threads == 2


def test_governor_checks_at_most_every_interval():
    fake = FakeSystem()
    gov = fake.governor()
    fake.advance(4, **CONTENDED)
    assert gov.poll() is None  # 4 s < 10 s: nothing read
    fake.advance(6, **CONTENDED)
    assert gov.poll() is not None


def test_governor_goes_down_on_contention_and_up_when_idle():
    fake = FakeSystem()
    gov = fake.governor()
    fake.advance(10, **CONTENDED)
    line = gov.poll()
    assert line == ('CPU contention: 34% of this run\'s thread time waited '
                    'for a core over the last 10 s; intra-op threads 2 -> 1')
    assert fake.calls == [1]
    for _ in range(3):  # the other job still runs: no core is idle
        fake.advance(10, **HELD)
        assert gov.poll() is None
    fake.advance(10, **FREED)
    assert gov.poll() is None  # one idle interval is not enough
    fake.advance(10, **FREED)
    assert gov.poll() == ('CPU contention over: 1.0 of 2 usable cores idle '
                          'over the last 10 s; intra-op threads 1 -> 2')
    assert fake.calls == [1, 2]


def test_governor_takes_the_cores_the_other_jobs_left():
    fake = FakeSystem(cpus=8)
    gov = fake.governor(threads=8)
    # 8 threads ran 56 core-seconds (waiting 24); the other jobs used the
    # remaining 24 core-seconds: 2.4 cores, so 5 are left for us
    fake.advance(10, run=56, wait=24, idle=0.0)
    assert gov.poll().endswith('intra-op threads 8 -> 5')
    fake.advance(10, run=48, wait=2, idle=0.2)  # below the threshold
    assert gov.poll() is None
    fake.advance(10, run=48, wait=2, idle=3.0)
    assert gov.poll() is None
    fake.advance(10, run=48, wait=2, idle=3.0)
    assert gov.poll().endswith('intra-op threads 5 -> 8')


def test_governor_waits_longer_after_a_rise_that_did_not_hold():
    fake = FakeSystem()
    gov = fake.governor()
    fake.advance(10, **CONTENDED)
    gov.poll()
    for _ in range(2):
        fake.advance(10, **FREED)
        gov.poll()
    assert gov.threads == 2
    fake.advance(10, **CONTENDED)  # the other job is back at once
    assert gov.poll().endswith('2 -> 1')
    for _ in range(3):  # now four idle intervals are needed
        fake.advance(10, **FREED)
        assert gov.poll() is None
    fake.advance(10, **FREED)
    assert gov.poll().endswith('1 -> 2')


def test_governor_ignores_an_interval_spent_asleep():
    fake = FakeSystem()
    gov = fake.governor()
    fake.advance(10, run=0.5, wait=0.5, idle=1.9)  # 50% wait of 0.1 cores
    assert gov.poll() is None and gov.threads == 2


def test_governor_never_goes_below_one_thread():
    fake = FakeSystem()
    gov = fake.governor(threads=1)
    fake.advance(10, run=5, wait=5, idle=0.0)
    assert gov.poll() is None and fake.calls == []


def test_governor_turns_off_once_when_the_files_go():
    fake = FakeSystem()
    gov = fake.governor()
    fake.fail = True
    fake.advance(10, **CONTENDED)
    line = gov.poll()
    assert 'stops (/proc/self/task gone); they stay at 2' in line
    fake.advance(10, **CONTENDED)
    assert gov.poll() is None and fake.calls == []


def test_decide_from_samples():
    gov = ThreadGovernor(2, [0, 1], lambda n: None)
    assert gov.decide(Sample(10, 0.3, 2.0, 1.4, 0.0)) == 1
    gov.threads = 1
    assert gov.decide(Sample(10, 0.3, 1.0, 0.7, 0.0)) == 1  # at the floor


def test_blocker_user_threads_quota_and_files(tmp_path):
    tasks = tmp_path / 'task'
    _plant_tasks(tasks, {'1': (1, 1)})
    stat = tmp_path / 'stat'
    stat.write_text(PROC_STAT.format(idle0=1, idle1=1))
    ok = dict(affinity=[0, 1], quota=None, task_dir=str(tasks),
              stat_path=str(stat))
    ours = {'OMP_NUM_THREADS': '2', DEFAULTS_MARKER: 'OMP_NUM_THREADS'}
    assert adaptation_blocker(ours, **ok) is None
    assert adaptation_blocker({}, **ok) is None  # torch's own default
    assert adaptation_blocker({'OMP_NUM_THREADS': '2'}, **ok) == \
        'OMP_NUM_THREADS=2 is set by you'
    assert adaptation_blocker(
        {'OMP_NUM_THREADS': '2', DEFAULTS_MARKER: 'OMP_WAIT_POLICY'},
        **ok) == 'OMP_NUM_THREADS=2 is set by you'
    assert adaptation_blocker(ours, **dict(ok, affinity=[3])) == \
        'one usable core'
    assert 'quota of 1 CPUs is smaller than the 2 CPUs' in \
        adaptation_blocker(ours, **dict(ok, quota=1))
    assert adaptation_blocker(ours, **dict(ok, quota=4)) is None
    assert 'schedstat unreadable' in adaptation_blocker(
        ours, **dict(ok, task_dir=str(tmp_path / 'none')))
    assert 'unreadable' in adaptation_blocker(
        ours, **dict(ok, stat_path=str(tmp_path / 'none')))


def test_blocker_reads_this_linux_process():
    pytest.importorskip('os').sched_getaffinity  # Linux only
    env = {'OMP_NUM_THREADS': '1'}
    assert adaptation_blocker(env) == 'OMP_NUM_THREADS=1 is set by you'
    assert read_thread_schedstats()  # this process's own threads


class FakeLogger:
    def __init__(self):
        self.lines = []
        self.debug_lines = []

    def info(self, line):
        self.lines.append(line)

    def debug(self, line):
        self.debug_lines.append(line)


def test_hook_sets_threads_and_logs_the_change():
    fake = FakeSystem()
    hook = CpuThreadsHook(interval_s=10,
                          governor_factory=lambda threads: fake.governor(2))
    runner = SimpleNamespace(logger=FakeLogger())
    hook.before_train(runner)
    fake.advance(10, **CONTENDED)
    hook.after_train_iter(runner, 0)
    assert fake.calls == [1]
    assert runner.logger.lines == [
        'CPU contention: 34% of this run\'s thread time waited for a core '
        'over the last 10 s; intra-op threads 2 -> 1']
    assert runner.logger.debug_lines == [
        'CPU contention check: wait fraction 0.335, 2.00 runnable and 1.33 '
        'running threads, 0.00 idle cores over 10.0 s; intra-op threads 1']
    fake.advance(3, **CONTENDED)
    hook.after_train_iter(runner, 1)  # within the interval: no check
    assert len(runner.logger.lines) == 1
    assert len(runner.logger.debug_lines) == 1


def test_hook_sets_torch_threads(monkeypatch):
    import torch
    calls = []
    monkeypatch.setattr(torch, 'get_num_threads', lambda: 2)
    monkeypatch.setattr(torch, 'set_num_threads', calls.append)
    hook = CpuThreadsHook(interval_s=10)
    runner = SimpleNamespace(logger=FakeLogger())
    hook.before_train(runner)
    gov = hook.governor
    assert (gov.threads, gov.interval_s) == (2, 10.0)
    fake = FakeSystem()  # from here on, planted readings
    gov.clock, gov.cpus = (lambda: fake.now), [0, 1]
    gov._read_schedstats, gov._read_cpu_times = (fake.schedstats,
                                                 fake.cpu_times)
    assert gov.start() is None
    fake.advance(10, **CONTENDED)
    hook.after_train_iter(runner, 0)
    assert calls == [1] and runner.logger.lines[-1].endswith('2 -> 1')


@pytest.fixture
def adaptable(monkeypatch):
    monkeypatch.setattr(cpu_contention, 'adaptation_blocker', lambda: None)


def test_hook_is_a_default_hook_of_cpu_runs(adaptable):
    hooks = hooks_from(Config(dict(runner=dict(max_iters=4))))
    assert hooks['default_hooks']['cpu_threads'] == dict(
        type='CpuThreadsHook', interval_s=10.0)
    hooks = hooks_from(Config(dict(runner=dict(max_iters=4),
                                   cpu_threads=dict(interval_s=3))))
    assert hooks['default_hooks']['cpu_threads']['interval_s'] == 3.0


def test_adapt_false_keeps_the_threads(adaptable):
    cfg = Config(dict(runner=dict(max_iters=4),
                      cpu_threads=dict(adapt=False)))
    assert 'cpu_threads' not in hooks_from(cfg)['default_hooks']
    assert cpu_threads_plan(cfg)[1] == \
        'intra-op threads fixed (cpu_threads.adapt=False)'


def test_deterministic_runs_keep_their_threads(adaptable):
    """A thread-count change alters the last bits of CPU results, so a
    deterministic run never adapts."""
    cfg = Config(dict(runner=dict(max_iters=4), deterministic=True))
    assert 'cpu_threads' not in hooks_from(cfg)['default_hooks']
    assert cpu_threads_plan(cfg, device='cpu', blocker=None) == (
        None, 'intra-op threads fixed (deterministic=True)')


def test_plan_says_why_the_threads_stay():
    cfg = Config(dict(runner=dict(max_iters=4)))
    assert cpu_threads_plan(cfg, device='cuda') == (
        None, 'intra-op threads fixed (a cuda run)')
    assert cpu_threads_plan(cfg, device='cpu', blocker='one usable core') == (
        None, 'intra-op thread adaptation off: one usable core')
    hook, line = cpu_threads_plan(cfg, device='cpu', blocker=None)
    assert hook['type'] == 'CpuThreadsHook'
    assert line == ('intra-op threads adapt to CPU contention (checked '
                    'every 10 s)')


def test_environment_line_says_whether_threads_adapt(monkeypatch):
    from mmseg.engine.build import environment_line
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    monkeypatch.delenv(DEFAULTS_MARKER, raising=False)
    line = environment_line(Config({}))
    assert ('; intra-op thread adaptation off: OMP_NUM_THREADS=1 is set by '
            'you; host allocator') in line


@pytest.mark.parametrize('value, message', [
    (dict(adapt='yes'), 'cpu_threads.adapt must be True or False'),
    (dict(interval_s=0), 'cpu_threads.interval_s must be a positive'),
    (dict(interval_s='10'), 'cpu_threads.interval_s must be a positive'),
    (dict(adapts=True), "unknown cpu_threads key(s) ['adapts']"),
    (True, 'cpu_threads must be a dict'),
])
def test_bad_cpu_threads_refused_in_one_line(value, message):
    cfg = Config(dict(runner=dict(max_iters=4), cpu_threads=value),
                 cfg_text='# planted', filename='cfg.py')
    with pytest.raises(ConfigError) as err:
        hooks_from(cfg)
    assert message in str(err.value) and 'config cfg.py' in str(err.value)
    assert '\n' not in str(err.value)


def test_cpu_threads_defaults():
    assert cpu_threads_from(Config({})) == dict(adapt=True, interval_s=10.0)


def test_cpu_threads_options_accepted_and_typos_refused():
    cfg = dict(runner=dict(max_iters=4))
    check_option_key(cfg, 'cpu_threads.adapt', False, 'cfg.py')
    check_option_key(cfg, 'cpu_threads', dict(adapt=False), 'cfg.py')
    with pytest.raises(ConfigError, match='no key "adpt" in cpu_threads'):
        check_option_key(cfg, 'cpu_threads.adpt', False, 'cfg.py')
    with pytest.raises(ConfigError, match='expected True or False'):
        check_option_key(dict(cfg, cpu_threads=dict(adapt=True)),
                         'cpu_threads.adapt', 'no', 'cfg.py')



def test_thread_governor_for_a_test_loop(adaptable):
    from mmseg.engine.cpu_threads_cfg import thread_governor_for
    cfg = Config(dict(cpu_threads=dict(interval_s=5)))
    governor, _ = thread_governor_for(cfg, 'cpu')
    assert governor.interval_s == 5.0 and governor.threads >= 1
    assert thread_governor_for(cfg, 'cuda:0') == (
        None, 'intra-op threads fixed (a cuda:0 run)')


@pytest.mark.parametrize('tool, args', [
    ('tools/train.py', ['--work-dir', '{out}']),
    ('tools/test.py', ['{out}.pth', '--eval', 'mIoU', '--show-dir', '{out}']),
])
def test_tools_refuse_a_bad_cpu_threads_before_writing(tool, args, tmp_path):
    from test_entry_point_errors import (CONFIG, assert_one_line_error,
                                         run_tool)
    config = tmp_path / 'cfg.py'
    config.write_text(CONFIG.format(root=str(tmp_path)))
    out = str(tmp_path / 'out')
    status, lines = run_tool(tool, str(config),
                             *[a.format(out=out) for a in args],
                             '--cfg-options', 'cpu_threads.adapt=maybe')
    assert_one_line_error(status, lines, osp.basename(tool),
                          'cpu_threads.adapt', str(config))
    assert not osp.exists(out)


def test_hook_restores_the_start_threads_after_training():
    fake = FakeSystem()
    hook = CpuThreadsHook(governor_factory=lambda threads: fake.governor(2))
    runner = SimpleNamespace(logger=FakeLogger())
    hook.before_train(runner)
    fake.advance(10, **CONTENDED)
    hook.after_train_iter(runner, 0)
    hook.after_train(runner)
    assert fake.calls == [1, 2] and hook.governor.threads == 2
    hook.after_train(runner)
    assert fake.calls == [1, 2]


def test_governed_entry_points_keep_libgomp_spin_when_loaded():
    from mmseg.utils.cpu_threads import thread_defaults
    assert thread_defaults({}, 2, load=3.0) == {
        'OMP_NUM_THREADS': '2', 'OMP_WAIT_POLICY': 'PASSIVE'}
    assert thread_defaults({}, 2, load=3.0, passive_when_loaded=False) == {
        'OMP_NUM_THREADS': '2'}


@pytest.mark.slow
def test_tiny_training_runs_the_governor(tmp_path, monkeypatch):
    """A real run with project-default threads: the hook is among the
    runner's hooks, reads this process's /proc files at each iteration
    (interval ~0) without turning off, and the log says so."""
    import torch
    from e2e_config import write_tiny_config

    from tools.train import main as train_main
    monkeypatch.setenv('OMP_NUM_THREADS', str(torch.get_num_threads()))
    monkeypatch.setenv(DEFAULTS_MARKER, 'OMP_NUM_THREADS')
    threads = torch.get_num_threads()
    cfg = write_tiny_config(str(tmp_path), 'toy_dacs_daformer_mitb0.py',
                            str(tmp_path / 'toy'), iters=3, ckpt_interval=3,
                            extra='cpu_threads = dict(interval_s=1e-6)\n')
    runner = train_main([cfg, '--work-dir', str(tmp_path / 'run')])
    hooks = [h for h in runner.hooks if isinstance(h, CpuThreadsHook)]
    if len(os.sched_getaffinity(0)) < 2:
        assert hooks == []  # one usable core: nothing to adapt
        return
    assert len(hooks) == 1 and hooks[0].governor.off_reason is None
    assert hooks[0].governor._last is not None  # it read the files
    assert torch.get_num_threads() == threads  # given back after training
    log = open(glob.glob(str(tmp_path / 'run' / '*' / '*.log'))[0]).read()
    assert 'intra-op threads adapt to CPU contention (checked every' in log
