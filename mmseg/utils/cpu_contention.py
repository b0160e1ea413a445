"""Adapt torch's intra-op thread count to CPU contention while a run goes on.

:mod:`mmseg.utils.cpu_threads` chooses the threads once, before torch is
imported: one per usable core, with libgomp's own wait policy (its threads
spin a while at each barrier before they sleep). That is the fastest setting
on a quiet machine, but when another job takes one of the cores later, each
of the thousands of parallel regions of a step waits for a descheduled
sibling thread while the spinning one burns the core it needs: the step
slows by 3x-60x instead of by the share of the machine the other job took.
:class:`ThreadGovernor` watches the run and lowers the thread count
(``torch.set_num_threads``) while its threads queue for a core, and raises it
again once the cores are idle.

Signals, read every ``interval_s`` seconds (both work inside containers,
where ``/proc/loadavg`` and ``os.getloadavg()`` describe the host):

wait fraction
    ``/proc/self/task/<tid>/schedstat`` holds, per thread of this process,
    the nanoseconds spent on a CPU, the nanoseconds spent runnable on a run
    queue waiting for one, and the timeslice count (Linux, ``sched_info``).
    Over an interval, wait fraction = sum of the waits / sum of (run + wait)
    over the process's threads (:func:`wait_fraction`). Near 0 when the
    cores are ours; when another job holds a core it is the share of our
    threads' runnable time spent queueing.
idle cores
    the idle + iowait share of each CPU of this process's affinity in the
    per-CPU lines of ``/proc/stat``, summed (:func:`idle_cores`): used to
    decide to go back up, since at the reduced thread count our threads no
    longer queue even while the other job still runs.

Decisions (:meth:`ThreadGovernor.decide`): wait fraction >= ``down_wait``
lowers the threads to the cores the other jobs left us (the usable cores
minus their busy time: busy CPU time of the affinity less our own), at least
one and at least one fewer; idle cores >= ``up_idle`` for ``up_after``
intervals in a row raises them by the idle cores, up to the start value.
A rise that has to be undone at the next check doubles the intervals the
next rise waits for (hysteresis against a job that comes and goes).

The governor is off (and says why once, :func:`adaptation_blocker`) when the
user chose ``OMP_NUM_THREADS`` (only the project's default, named in the
``NIGHTSEG_THREAD_DEFAULTS`` marker, or none, is adapted), when the files are
missing or unreadable, when a cgroup CPU quota is smaller than the affinity
(idle host CPUs are then not ours to take), or with a single usable core.
The thresholds come from measurements on a 2-core machine (``docs/speed.md``,
"CPU threads on a shared machine").

Why :mod:`mmseg.utils.cpu_threads` no longer sets ``OMP_WAIT_POLICY=PASSIVE``
for entry points that run the governor: ``PASSIVE`` costs a quiet 2-core
machine 2x per step, and the start-time load average that triggers it also
counts jobs that just ended (the previous run of ``run_experiments.py``);
under contention one spinning thread (what the governor falls back to) beat
two passive threads in our measurements (``docs/speed.md``). This module
imports no torch; the caller passes ``set_threads``.
"""
import os
import os.path as osp
import time
from typing import Callable, Dict, Iterable, List, Mapping, NamedTuple, \
    Optional, Tuple

from .cpu_threads import DEFAULTS_MARKER, cgroup_cpu_quota

TASK_DIR = '/proc/self/task'
PROC_STAT = '/proc/stat'
#: wait fraction from which the threads go down
DOWN_WAIT = 0.15
#: idle cores of the affinity from which the threads go back up
UP_IDLE = 0.75
#: consecutive idle intervals before going back up
UP_AFTER = 2
#: longest wait before a rise, in intervals (after repeated flapping)
MAX_UP_AFTER = 16
#: below this share of the interval in runnable thread time (run + wait,
#: in core-seconds per second) nothing is decided: the run was mostly asleep
MIN_ACTIVE = 0.2
DEFAULT_INTERVAL_S = 10.0

#: ``{tid: (ns on a CPU, ns waiting on a run queue)}``
SchedStats = Dict[str, Tuple[int, int]]
#: ``{cpu: (all ticks, idle + iowait ticks)}``
CpuTimes = Dict[int, Tuple[int, int]]


def _read_text(path: str) -> str:
    with open(path) as f:
        return f.read()


def read_thread_schedstats(task_dir: str = TASK_DIR,
                           read: Callable[[str], str] = _read_text
                           ) -> SchedStats:
    """Per-thread ``(run_ns, wait_ns)`` of the process whose ``task``
    directory is ``task_dir``. A thread that ends between the listing and
    the read is skipped.

    Raises:
        OSError: ``task_dir`` cannot be listed, or no thread's schedstat can
            be read (a kernel without ``sched_info``).
    """
    stats = {}
    for tid in os.listdir(task_dir):
        try:
            fields = read(osp.join(task_dir, tid, 'schedstat')).split()
            stats[tid] = (int(fields[0]), int(fields[1]))
        except (OSError, ValueError, IndexError):
            continue
    if not stats:
        raise OSError(f'no readable {osp.join(task_dir, "*", "schedstat")}')
    return stats


def wait_fraction(before: SchedStats,
                  after: SchedStats) -> Tuple[Optional[float], float]:
    """Share of the runnable time of the threads that waited for a core
    between two :func:`read_thread_schedstats` readings, and that runnable
    time in seconds (run + wait summed over threads). A thread that started
    in between counts from zero; one that ended is left out. The share is
    None when no thread was runnable."""
    run = wait = 0
    for tid, (run_after, wait_after) in after.items():
        run_before, wait_before = before.get(tid, (0, 0))
        run += max(0, run_after - run_before)
        wait += max(0, wait_after - wait_before)
    total = run + wait
    return (wait / total if total else None), total / 1e9


def thread_run_seconds(before: SchedStats, after: SchedStats) -> float:
    """CPU seconds the threads ran between two readings (spinning
    included)."""
    return sum(max(0, run - before.get(tid, (0, 0))[0])
               for tid, (run, _) in after.items()) / 1e9


def read_cpu_times(stat_path: str = PROC_STAT,
                   read: Callable[[str], str] = _read_text) -> CpuTimes:
    """``{cpu: (all ticks, idle + iowait ticks)}`` from the per-CPU lines of
    ``/proc/stat`` (``cpuN user nice system idle iowait irq softirq steal
    ...``; guest time is already inside user).

    Raises:
        OSError: the file cannot be read or has no per-CPU line.
    """
    times = {}
    for line in read(stat_path).splitlines():
        name, _, rest = line.partition(' ')
        if not (name.startswith('cpu') and name[3:].isdigit()):
            continue
        ticks = [int(v) for v in rest.split()[:8]]
        if len(ticks) < 5:
            continue
        times[int(name[3:])] = (sum(ticks), ticks[3] + ticks[4])
    if not times:
        raise OSError(f'no per-CPU line in {stat_path}')
    return times


def idle_cores(before: CpuTimes, after: CpuTimes,
               cpus: Iterable[int]) -> float:
    """Cores' worth of idle time of ``cpus`` between two
    :func:`read_cpu_times` readings: the sum of each CPU's idle share (0 to
    ``len(cpus)``). A CPU without ticks in between counts as busy."""
    idle = 0.0
    for cpu in cpus:
        if cpu not in before or cpu not in after:
            continue
        total = after[cpu][0] - before[cpu][0]
        if total > 0:
            idle += max(0, after[cpu][1] - before[cpu][1]) / total
    return idle


def cgroup_v1_cpu_quota(
        quota_path: str = '/sys/fs/cgroup/cpu/cpu.cfs_quota_us',
        period_path: str = '/sys/fs/cgroup/cpu/cpu.cfs_period_us'
) -> Optional[int]:
    """Whole CPUs of a cgroup v1 CFS quota (rounded up), None without one."""
    try:
        quota = int(_read_text(quota_path))
        period = int(_read_text(period_path))
    except (OSError, ValueError):
        return None
    if quota <= 0 or period <= 0:
        return None
    return max(1, -(-quota // period))


def adaptation_blocker(environ: Optional[Mapping[str, str]] = None,
                       affinity: Optional[List[int]] = None,
                       quota: Optional[int] = -1,
                       task_dir: str = TASK_DIR,
                       stat_path: str = PROC_STAT) -> Optional[str]:
    """Why the thread count may not be adapted in this process (one phrase
    for the log), or None when it may. ``quota=-1`` reads the cgroup
    quota (v2, then v1); None means no quota."""
    environ = os.environ if environ is None else environ
    threads = environ.get('OMP_NUM_THREADS', '').strip()
    ours = 'OMP_NUM_THREADS' in environ.get(DEFAULTS_MARKER, '').split(',')
    if threads and not ours:
        return f'OMP_NUM_THREADS={threads} is set by you'
    if affinity is None:
        try:
            affinity = sorted(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            return 'no CPU affinity on this system'
    if len(affinity) < 2:
        return 'one usable core'
    if quota == -1:
        quota = cgroup_cpu_quota() or cgroup_v1_cpu_quota()
    if quota is not None and quota < len(affinity):
        return (f'a cgroup CPU quota of {quota} CPUs is smaller than the '
                f'{len(affinity)} CPUs of the affinity (idle CPUs are not '
                'ours)')
    try:
        read_thread_schedstats(task_dir)
    except OSError:
        return f'{task_dir}/*/schedstat unreadable'
    try:
        read_cpu_times(stat_path)
    except (OSError, ValueError):
        return f'{stat_path} unreadable'
    return None


class Sample(NamedTuple):
    """One interval's readings."""
    seconds: float  # wall-clock length of the interval
    wait: Optional[float]  # wait fraction (None: nothing ran)
    active: float  # runnable thread time / interval (cores' worth)
    run: float  # our threads' CPU time / interval (cores' worth)
    idle: float  # idle cores of the affinity


class ThreadGovernor:
    """Lowers and raises the intra-op thread count from :class:`Sample`
    readings (see the module docstring for the rule).

    Args:
        threads: the start (and largest) thread count, torch's current one.
        cpus: the CPU ids of this process's affinity.
        set_threads: called with the new count (``torch.set_num_threads``).
        interval_s: seconds of wall time between two readings, at least.
        down_wait, up_idle, up_after: the thresholds (module constants).
        clock, read_schedstats, read_cpu_times: injectable for tests.
    """

    def __init__(self,
                 threads: int,
                 cpus: List[int],
                 set_threads: Callable[[int], None],
                 interval_s: float = DEFAULT_INTERVAL_S,
                 down_wait: float = DOWN_WAIT,
                 up_idle: float = UP_IDLE,
                 up_after: int = UP_AFTER,
                 clock: Callable[[], float] = time.monotonic,
                 read_schedstats: Callable[[], SchedStats] =
                 read_thread_schedstats,
                 read_cpu_times: Callable[[], CpuTimes] = read_cpu_times):
        self.max_threads = self.threads = int(threads)
        self.cpus = list(cpus)
        self.set_threads = set_threads
        self.interval_s = float(interval_s)
        self.down_wait = down_wait
        self.up_idle = up_idle
        self.base_up_after = self.up_after = up_after
        self.clock = clock
        self._read_schedstats = read_schedstats
        self._read_cpu_times = read_cpu_times
        self.idle_streak = 0
        self.raised_last = False  # the previous decision was a rise
        self.off_reason: Optional[str] = None
        self.last_sample: Optional[Sample] = None
        self._last: Optional[Tuple[float, SchedStats, CpuTimes]] = None

    def _read(self) -> Tuple[float, SchedStats, CpuTimes]:
        return self.clock(), self._read_schedstats(), self._read_cpu_times()

    def start(self) -> Optional[str]:
        """Take the first reading; returns a log line if that failed (the
        governor is then off)."""
        try:
            self._last = self._read()
        except (OSError, ValueError) as err:
            return self._turn_off(str(err))
        return None

    def _turn_off(self, why: str) -> str:
        self.off_reason = why
        return (f'CPU contention: adapting the intra-op threads stops '
                f'({why}); they stay at {self.threads}')

    def restore(self) -> None:
        """Go back to the start thread count (``max_threads``)."""
        if self.threads != self.max_threads:
            self.threads = self.max_threads
            self.set_threads(self.max_threads)

    def poll(self) -> Optional[str]:
        """Read and decide when ``interval_s`` has passed since the last
        reading; returns the log line of a change (or of turning off)."""
        if self.off_reason is not None:
            return None
        if self._last is None:
            return self.start()
        now = self.clock()
        if now - self._last[0] < self.interval_s:
            return None
        try:
            reading = self._read()
        except (OSError, ValueError) as err:
            return self._turn_off(str(err))
        (t0, sched0, cpu0), (t1, sched1, cpu1) = self._last, reading
        self._last = reading
        seconds = max(t1 - t0, 1e-9)
        wait, active = wait_fraction(sched0, sched1)
        sample = Sample(seconds, wait, active / seconds,
                        thread_run_seconds(sched0, sched1) / seconds,
                        idle_cores(cpu0, cpu1, self.cpus))
        self.last_sample = sample
        new = self.decide(sample)
        if new == self.threads:
            return None
        old, self.threads = self.threads, new
        self.set_threads(new)
        return self.describe(sample, old, new)

    def decide(self, s: Sample) -> int:
        """The thread count after interval ``s`` (updates the hysteresis
        state)."""
        if s.wait is None or s.active < MIN_ACTIVE:
            return self.threads  # mostly asleep (data loading, I/O)
        raised_last, self.raised_last = self.raised_last, False
        if s.wait >= self.down_wait and self.threads > 1:
            if raised_last:  # the rise did not hold: wait longer next time
                self.up_after = min(MAX_UP_AFTER, self.up_after * 2)
            self.idle_streak = 0
            # cores the other jobs used: busy time of the affinity less ours
            others = max(0.0, len(self.cpus) - s.idle - s.run)
            left = int(len(self.cpus) - others)
            return max(1, min(self.threads - 1, left))
        if self.threads < self.max_threads and s.idle >= self.up_idle:
            self.idle_streak += 1
            if self.idle_streak >= self.up_after:
                self.idle_streak = 0
                self.raised_last = True
                return min(self.max_threads,
                           self.threads + max(1, round(s.idle)))
            return self.threads
        self.idle_streak = 0
        if s.wait < self.down_wait / 2 and not raised_last:
            self.up_after = max(self.base_up_after, self.up_after // 2)
        return self.threads

    def describe(self, s: Sample, old: int, new: int) -> str:
        """The log line of a change from ``old`` to ``new`` threads."""
        if new < old:
            return (f'CPU contention: {s.wait:.0%} of this run\'s thread '
                    f'time waited for a core over the last {s.seconds:.0f} '
                    f's; intra-op threads {old} -> {new}')
        return (f'CPU contention over: {s.idle:.1f} of {len(self.cpus)} '
                f'usable cores idle over the last {s.seconds:.0f} s; '
                f'intra-op threads {old} -> {new}')


def cpu_affinity() -> List[int]:
    """CPU ids this process may run on (all CPUs where unknown)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))

