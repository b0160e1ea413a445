"""Timing and peak-memory measurement of a callable (CPU or CUDA)."""
import resource
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional, Union

import torch

Device = Union[str, torch.device]


def synchronize(device: Device) -> None:
    """Wait for queued CUDA work so wall-clock times are complete."""
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


def time_callable(fn: Callable[[], object], iters: int, warmup: int = 1,
                  device: Device = 'cpu',
                  sync: Optional[Callable[[], None]] = None
                  ) -> Dict[str, object]:
    """Run ``fn`` ``warmup`` times untimed, then ``iters`` times timed.

    Each timed call is bracketed by ``sync()`` (default:
    :func:`synchronize` of ``device``; a data-parallel benchmark adds a
    barrier of all ranks, so each call's time is the slowest rank's).

    Returns ``{'median_s', 'mean_s', 'min_s', 'times_s'}`` in wall-clock
    seconds per call and ``'median_cpu_s'``, the median CPU time of the
    process per call (all threads; it leaves out the time other jobs hold the
    CPU, but spinning OpenMP threads inflate it under heavy contention).
    """
    if iters < 1:
        raise ValueError('iters must be >= 1')
    if sync is None:
        def sync() -> None:
            synchronize(device)
    for _ in range(warmup):
        fn()
    times: List[float] = []
    cpu_times: List[float] = []
    for _ in range(iters):
        sync()
        start, cpu_start = time.perf_counter(), time.process_time()
        fn()
        sync()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    return {'median_s': statistics.median(times),
            'median_cpu_s': statistics.median(cpu_times),
            'mean_s': statistics.fmean(times), 'min_s': min(times),
            'times_s': times}


def process_peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (Linux: KiB; macOS: B)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == 'darwin' else peak * 1024


def measure_peak_memory(fn: Callable[[], object],
                        device: Device = 'cpu') -> Dict[str, object]:
    """Peak memory of one call of ``fn``.

    CUDA: ``torch.cuda.max_memory_allocated`` during the call (tensors
    only, ``kind='cuda_max_allocated'``). CPU: increase of the process peak
    RSS (``ru_maxrss``) over the call, ``kind='process_peak_rss_increase'``;
    it is 0 when the call stays below an earlier peak of the process, so
    measure in a fresh process before anything larger ran.
    """
    device = torch.device(device)
    if device.type == 'cuda':
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        synchronize(device)
        peak = torch.cuda.max_memory_allocated(device)
        return {'kind': 'cuda_max_allocated', 'peak_bytes': peak,
                'increase_bytes': peak - base}
    before = process_peak_rss_bytes()
    fn()
    after = process_peak_rss_bytes()
    return {'kind': 'process_peak_rss_increase', 'peak_bytes': after,
            'increase_bytes': after - before}


def count_flops(fn: Callable[[], object]) -> int:
    """Floating-point operations of one call of ``fn`` (forward + backward).

    Counted by ``torch.utils.flop_counter.FlopCounterMode`` (matrix products,
    convolutions and attention; element-wise operations are not counted, so
    achieved FLOP/s derived from it is a lower bound).
    """
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return counter.get_total_flops()


class StageTimer:
    """Wall-clock time of named stages of a step, by wrapping methods.

    :meth:`wrap` replaces ``obj.attr`` on the instance (never the class) by
    a timed call; stages nest (a stage's time includes the stages it calls).
    On CUDA each stage is bracketed by synchronisations, which adds a little
    to the step. :meth:`wrap_uda_step` wraps the stages of a
    :class:`~mmseg.models.uda.dacs.DACS` step (and EGLP's, where present).
    """

    #: (path from the UDA model, label) of the stages of a UDA step
    UDA_STAGES = (
        ('train_step', 'step'),
        ('update_teachers', 'EMA teachers update'),
        ('source_stage', 'source stage (+ NFNet prompt stage)'),
        ('prompt_stage', 'NFNet prompt stage'),
        ('pseudo_labels', 'pseudo-labels (teachers, fusion)'),
        ('teacher.predict_logits', 'UDA teacher forward'),
        ('nf_teacher.predict_logits', 'NFNet teacher forward'),
        ('dms.refine', 'DMS/FIS fusion (incl. class similarity)'),
        ('dms.similarity.forward', 'class similarity (DNIS)'),
        ('mixed_batch', 'mixing + strong augmentation'),
        ('target_stage', 'target stage (pseudo-labels .. mixed backward)'),
        ('extra_stage', 'extra stage (+ prompt mixture)'),
        ('prompt_mixture_stage', 'NFNet prompt mixture stage'),
    )

    def __init__(self, device: Device = 'cpu') -> None:
        self.device = device
        self.times: Dict[str, List[float]] = {}
        self.cpu_times: Dict[str, List[float]] = {}
        self.enabled = True
        self._skip_steps = 0

    def wrap(self, obj: object, attr: str, label: str,
             key_arg: Optional[int] = None, ends_step: bool = False) -> None:
        """Time ``obj.attr`` under ``label`` (with ``key_arg``: under
        ``label[args[key_arg]]``, e.g. a backward pass per loss prefix)."""
        fn = getattr(obj, attr)

        def timed(*args, **kwargs):
            if not self.enabled:
                return fn(*args, **kwargs)
            name = label
            if key_arg is not None:
                key = args[key_arg] if len(args) > key_arg else kwargs.get(
                    'prefix', '')
                name = f'{label}[{key or "src"}]'
            synchronize(self.device)
            start, cpu_start = time.perf_counter(), time.process_time()
            out = fn(*args, **kwargs)
            synchronize(self.device)
            self.times.setdefault(name, []).append(time.perf_counter() -
                                                   start)
            self.cpu_times.setdefault(name, []).append(time.process_time() -
                                                       cpu_start)
            if ends_step and self._skip_steps > 0:
                self._skip_steps -= 1
                self.times.clear()
                self.cpu_times.clear()
            return out

        setattr(obj, attr, timed)

    def wrap_uda_step(self, model: object, optim_wrapper: object) -> None:
        """Wrap the stages of ``model``'s UDA step that it has
        (:data:`UDA_STAGES`), each backward pass (by loss prefix) and the
        optimiser step."""
        for path, label in self.UDA_STAGES:
            *parents, attr = path.split('.')
            obj = model
            for name in parents:
                obj = getattr(obj, name, None)
            if obj is not None and hasattr(obj, attr):
                self.wrap(obj, attr, label, ends_step=path == 'train_step')
        self.wrap(model, 'backward', 'backward', key_arg=2)
        self.wrap(optim_wrapper, 'step', 'optimiser step')

    def reset_after(self, steps: int) -> None:
        """Forget everything now and after the next ``steps`` steps (the
        warm-up), so that :meth:`median_ms` covers the timed steps."""
        self.times.clear()
        self.cpu_times.clear()
        self._skip_steps = steps

    def median_ms(self, cpu: bool = False) -> Dict[str, float]:
        """Median milliseconds per call of each stage, in first-call order:
        wall clock, or with ``cpu`` the process's CPU time (all threads;
        leaves out the time other jobs hold the CPU)."""
        times = self.cpu_times if cpu else self.times
        return {name: round(statistics.median(t) * 1e3, 1)
                for name, t in times.items()}
