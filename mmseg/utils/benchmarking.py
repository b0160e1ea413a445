"""Timing and peak-memory measurement of a callable (CPU or CUDA)."""
import resource
import statistics
import sys
import time
from typing import Callable, Dict, List, Union

import torch

Device = Union[str, torch.device]


def synchronize(device: Device) -> None:
    """Wait for queued CUDA work so wall-clock times are complete."""
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


def time_callable(fn: Callable[[], object], iters: int, warmup: int = 1,
                  device: Device = 'cpu') -> Dict[str, object]:
    """Run ``fn`` ``warmup`` times untimed, then ``iters`` times timed.

    Returns ``{'median_s', 'mean_s', 'min_s', 'times_s'}`` in wall-clock
    seconds per call and ``'median_cpu_s'``, the median CPU time of the
    process per call (all threads; it leaves out the time other jobs hold the
    CPU, but spinning OpenMP threads inflate it under heavy contention).
    """
    if iters < 1:
        raise ValueError('iters must be >= 1')
    for _ in range(warmup):
        fn()
    times: List[float] = []
    cpu_times: List[float] = []
    for _ in range(iters):
        synchronize(device)
        start, cpu_start = time.perf_counter(), time.process_time()
        fn()
        synchronize(device)
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
