"""The ``cpu_threads`` config key: adapting the intra-op threads of a CPU
run to contention (:mod:`mmseg.utils.cpu_contention`).

``cpu_threads = dict(adapt=True, interval_s=10)`` is the default;
``adapt=False`` keeps the thread count chosen at start for the whole run.
"""
from typing import Any, Dict, Optional, Tuple

from mmseg.errors import ConfigError
from mmseg.utils.cpu_contention import DEFAULT_INTERVAL_S

CPU_THREADS_KEYS = ('adapt', 'interval_s')


def cpu_threads_from(cfg: Any) -> Dict[str, Any]:
    """``cfg``'s ``cpu_threads`` with the defaults filled in.

    Raises:
        ConfigError: not a dict, an unknown sub-key, ``adapt`` not True or
            False, ``interval_s`` not a positive number (the message names
            the key and the config file).
    """
    where = f'config {getattr(cfg, "filename", None)}'
    given = cfg.get('cpu_threads')
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise ConfigError(f'{where}: cpu_threads must be a dict like '
                          f'dict(adapt=True, interval_s=10), got {given!r}')
    unknown = sorted(set(given) - set(CPU_THREADS_KEYS))
    if unknown:
        raise ConfigError(f'{where}: unknown cpu_threads key(s) {unknown} '
                          f'(known: {list(CPU_THREADS_KEYS)})')
    adapt = given.get('adapt', True)
    if not isinstance(adapt, bool):
        raise ConfigError(f'{where}: cpu_threads.adapt must be True or '
                          f'False, got {adapt!r}')
    interval = given.get('interval_s', DEFAULT_INTERVAL_S)
    if isinstance(interval, bool) or not isinstance(
            interval, (int, float)) or not interval > 0:
        raise ConfigError(f'{where}: cpu_threads.interval_s must be a '
                          f'positive number of seconds, got {interval!r}')
    return dict(adapt=adapt, interval_s=float(interval))


def cpu_threads_plan(cfg: Any, device: Optional[str] = None,
                     blocker: Optional[str] = '') -> Tuple[
                         Optional[Dict[str, Any]], str]:
    """The hook config of :class:`~mmseg.engine.hooks.cpu_threads_hook.
    CpuThreadsHook` for ``cfg`` (None when the threads stay fixed) and a
    phrase for the log's ``environment:`` line saying which and why.
    The threads stay fixed with ``cpu_threads.adapt=False``, with
    ``deterministic=True`` (``tools/train.py --deterministic``: a run whose
    intra-op thread count changes splits CPU reductions differently, so its
    numbers would depend on the machine's load), on a GPU run, and where
    :func:`~mmseg.utils.cpu_contention.adaptation_blocker` finds a reason.
    ``device`` defaults to mmengine's ``get_device()``; ``blocker`` to
    :func:`~mmseg.utils.cpu_contention.adaptation_blocker`'s finding.

    Raises:
        ConfigError: a bad ``cpu_threads`` (:func:`cpu_threads_from`).
    """
    options = cpu_threads_from(cfg)
    if not options['adapt']:
        return None, 'intra-op threads fixed (cpu_threads.adapt=False)'
    if cfg.get('deterministic', False):
        # another thread count splits CPU reductions differently and
        # changes the last bits of losses and weights
        return None, 'intra-op threads fixed (deterministic=True)'
    if device is None:
        from mmengine.device import get_device
        device = get_device()
    if device != 'cpu':
        return None, f'intra-op threads fixed (a {device} run)'
    if blocker == '':
        from mmseg.utils.cpu_contention import adaptation_blocker
        blocker = adaptation_blocker()
    if blocker is not None:
        return None, f'intra-op thread adaptation off: {blocker}'
    interval = options['interval_s']
    return (dict(type='CpuThreadsHook', interval_s=interval),
            f'intra-op threads adapt to CPU contention (checked every '
            f'{interval:g} s)')


def thread_governor_for(cfg: Any, device: str):
    """A started-on-first-poll :class:`~mmseg.utils.cpu_contention.
    ThreadGovernor` for a loop that is not run by the runner (``tools/
    test.py``), or None, with the phrase of :func:`cpu_threads_plan`."""
    plan, phrase = cpu_threads_plan(cfg, device=device)
    if plan is None:
        return None, phrase
    import torch

    from mmseg.utils.cpu_contention import ThreadGovernor, cpu_affinity
    return ThreadGovernor(torch.get_num_threads(), cpu_affinity(),
                          torch.set_num_threads,
                          interval_s=plan['interval_s']), phrase
