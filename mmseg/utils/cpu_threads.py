"""CPU thread defaults that survive a shared machine.

PyTorch's CPU wheel runs its intra-op parallelism on GNU OpenMP (libgomp,
``torch.__config__.parallel_info()``), one thread per core by default. Every
parallel region ends at a barrier, and libgomp's waiting threads spin
(``OMP_WAIT_POLICY`` unset: a busy wait of about ``GOMP_SPINCOUNT=300000``
iterations, milliseconds) before they sleep. On a quiet machine that spin
saves a wake-up; when another job holds one of the cores, the spinning
thread burns the core its own partner needs, and each of the thousands of
regions of a training step waits out a scheduler time slice: measured on a
2-core machine, a step slowed by 20-60x (``docs/speed.md``).

The entry points (``tools/train.py``, ``tools/test.py``,
``run_experiments.py``, the benchmarks) call :func:`apply_cpu_thread_defaults`
before ``torch`` is imported (libgomp reads its environment once, when it is
loaded). Defaults, each only where the user set nothing:

``OMP_NUM_THREADS``
    the cores this process may use: its CPU affinity
    (``os.sched_getaffinity``, what ``taskset``/cgroup cpusets allow),
    capped by a cgroup v2 CPU quota (``cpu.max``), not ``os.cpu_count()``.
``OMP_WAIT_POLICY=PASSIVE``, only for the benchmarks
    (``passive_when_loaded=True``) and only when other work already holds a
    core at start (the 1-minute load average, ``os.getloadavg()``, is at
    least :data:`BUSY_LOAD`): threads that finish a region sleep at once
    instead of spinning (unless ``GOMP_SPINCOUNT`` or ``KMP_BLOCKTIME``
    already says how long to spin). ``tools/train.py``, ``tools/test.py``
    and ``run_experiments.py`` keep libgomp's own policy (spin, then sleep)
    and lower the thread count while the run's threads queue for a core
    (:mod:`mmseg.utils.cpu_contention`): PASSIVE's wake-ups cost a quiet
    2-core machine 2x per toy UDA step (0.68 s against 0.34 s), the load
    average also counts jobs that just ended, and under a competing busy
    loop one spinning thread beat two passive ones (``docs/speed.md``).

The user's own ``OMP_NUM_THREADS`` / ``OMP_WAIT_POLICY`` (e.g. the one thread
per process that ``tools/dist_train.sh`` sets) always win. This module
imports no torch.
"""
import math
import os
import sys
from typing import Dict, List, Mapping, MutableMapping, NamedTuple, Optional

#: environment variables this module may set, with the project's choice
THREAD_VARS = ('OMP_NUM_THREADS', 'OMP_WAIT_POLICY')
DEFAULT_WAIT_POLICY = 'PASSIVE'
#: 1-minute load average from which the machine counts as shared at start
BUSY_LOAD = 0.5
#: variables that already tell OpenMP how long to spin
SPIN_VARS = ('OMP_WAIT_POLICY', 'GOMP_SPINCOUNT', 'KMP_BLOCKTIME')
#: names the variables this module set in the process (children inherit
#: it, so their log says the values are the project's defaults)
DEFAULTS_MARKER = 'NIGHTSEG_THREAD_DEFAULTS'


class CpuThreadSetup(NamedTuple):
    """What :func:`apply_cpu_thread_defaults` found and chose."""
    num_threads: str  # OMP_NUM_THREADS in effect ('' if unset)
    wait_policy: str  # OMP_WAIT_POLICY in effect ('' if unset)
    defaults: List[str]  # the variables set as project defaults
    usable_cpus: int
    before_torch: bool  # False: torch was loaded already, OpenMP unchanged


def cgroup_cpu_quota(path: str = '/sys/fs/cgroup/cpu.max') -> Optional[int]:
    """Whole CPUs of a cgroup v2 quota (``"200000 100000"`` -> 2, rounded
    up), None without a quota or file."""
    try:
        with open(path) as f:
            quota, period = f.read().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == 'max':
        return None
    try:
        return max(1, math.ceil(int(quota) / int(period)))
    except (ValueError, ZeroDivisionError):
        return None


def usable_cpus(affinity: Optional[int] = None,
                quota: Optional[int] = None) -> int:
    """CPUs this process may run on: its affinity mask, capped by a cgroup
    quota (both read from the system when not given)."""
    if affinity is None:
        try:
            affinity = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):  # not Linux
            affinity = os.cpu_count() or 1
    if quota is None:
        quota = cgroup_cpu_quota()
    return max(1, min(affinity, quota) if quota else affinity)


def current_load() -> float:
    """The 1-minute load average (0.0 where the system has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def thread_defaults(environ: Mapping[str, str], cpus: int,
                    load: Optional[float] = None,
                    passive_when_loaded: bool = True) -> Dict[str, str]:
    """The variables to add to ``environ``: the project's defaults for those
    the user did not set (an empty or blank value counts as unset).
    ``load``: the 1-minute load average of the machine before this process
    runs (read with :func:`current_load` when None); PASSIVE is chosen
    from :data:`BUSY_LOAD` on, unless ``passive_when_loaded`` is False (an
    entry point whose run adapts its threads to contention,
    :mod:`mmseg.utils.cpu_contention`)."""
    def given(name: str) -> bool:
        return bool(environ.get(name, '').strip())

    add = {}
    if not given('OMP_NUM_THREADS'):
        add['OMP_NUM_THREADS'] = str(cpus)
    if not passive_when_loaded:
        return add
    load = current_load() if load is None else load
    if load >= BUSY_LOAD and not any(given(name) for name in SPIN_VARS):
        add['OMP_WAIT_POLICY'] = DEFAULT_WAIT_POLICY
    return add


def apply_cpu_thread_defaults(
        environ: Optional[MutableMapping[str, str]] = None,
        cpus: Optional[int] = None,
        torch_loaded: Optional[bool] = None,
        load: Optional[float] = None,
        passive_when_loaded: bool = True) -> CpuThreadSetup:
    """Set :func:`thread_defaults` in ``environ`` (default ``os.environ``).

    Call it before ``import torch``: once torch (and with it libgomp) is
    loaded, the variables reach only processes started later (data-loader
    workers, children), and ``before_torch`` is False. Variables set earlier
    by this function in a parent process (named in ``DEFAULTS_MARKER``) are
    reported as defaults, not as the user's.
    """
    environ = os.environ if environ is None else environ
    cpus = usable_cpus() if cpus is None else cpus
    if torch_loaded is None:
        torch_loaded = 'torch' in sys.modules
    added = thread_defaults(environ, cpus, load, passive_when_loaded)
    environ.update(added)
    inherited = [v for v in environ.get(DEFAULTS_MARKER, '').split(',')
                 if v in THREAD_VARS and v not in added]
    defaults = sorted(set(added) | set(inherited))
    if defaults:
        environ[DEFAULTS_MARKER] = ','.join(defaults)
    return CpuThreadSetup(
        num_threads=environ.get('OMP_NUM_THREADS', ''),
        wait_policy=environ.get('OMP_WAIT_POLICY', ''),
        defaults=defaults, usable_cpus=cpus, before_torch=not torch_loaded)


def describe_cpu_threads(environ: Optional[Mapping[str, str]] = None,
                         cpus: Optional[int] = None) -> str:
    """One phrase for the log, e.g. ``'CPU threads 2 of 2 usable cores,
    OpenMP wait policy PASSIVE (project defaults; OMP_NUM_THREADS /
    OMP_WAIT_POLICY override)'``."""
    environ = os.environ if environ is None else environ
    cpus = usable_cpus() if cpus is None else cpus
    defaults = set(environ.get(DEFAULTS_MARKER, '').split(','))
    threads = environ.get('OMP_NUM_THREADS', '').strip() or str(cpus)
    wait = (environ.get('OMP_WAIT_POLICY', '').strip()
            or 'unset (libgomp spins, then sleeps)')
    spin = [f'{v}={environ[v]}' for v in SPIN_VARS[1:] if environ.get(v)]
    origin = ['default' if v in defaults else 'set by you'
              for v in THREAD_VARS]
    return (f'CPU threads {threads} ({origin[0]}) of {cpus} usable cores, '
            f'OpenMP wait policy {wait}'
            + (f' ({origin[1]})' if wait.isupper() else '')
            + (' ' + ' '.join(spin) if spin else ''))
