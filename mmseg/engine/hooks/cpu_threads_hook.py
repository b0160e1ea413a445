"""Adapts the intra-op thread count of a CPU training to CPU contention."""
from typing import Any, Callable, Optional

from mmengine.hooks import Hook

from mmseg.registry import HOOKS
from mmseg.utils.cpu_contention import (DEFAULT_INTERVAL_S, ThreadGovernor,
                                        cpu_affinity)


@HOOKS.register_module()
class CpuThreadsHook(Hook):
    """Runs a :class:`~mmseg.utils.cpu_contention.ThreadGovernor` during
    training: at most every ``interval_s`` seconds of wall time (checked
    after each iteration; a check reads a few small ``/proc`` files) it may
    change ``torch.set_num_threads`` and logs one line when it does, e.g.
    ``CPU contention: 41% of this run's thread time waited for a core over
    the last 10 s; intra-op threads 2 -> 1``; with ``log_level='DEBUG'``
    also each check's readings.

    :func:`mmseg.engine.build.hooks_from` adds it to the default hooks of a
    CPU run with ``cpu_threads.adapt`` on when
    :func:`~mmseg.utils.cpu_contention.adaptation_blocker` finds nothing
    against it (the log's ``environment:`` line says which).

    Args:
        interval_s: seconds between two checks (> 0).
        governor_factory: builds the governor from the start thread count
            (tests inject fake clocks and readers).
    """

    priority = 'LOW'

    def __init__(self,
                 interval_s: float = DEFAULT_INTERVAL_S,
                 governor_factory: Optional[Callable[[int],
                                                     ThreadGovernor]] = None):
        self.interval_s = float(interval_s)
        self.governor_factory = governor_factory
        self.governor: Optional[ThreadGovernor] = None

    def before_train(self, runner: Any) -> None:
        import torch
        threads = torch.get_num_threads()
        if self.governor_factory is not None:
            self.governor = self.governor_factory(threads)
        else:
            self.governor = ThreadGovernor(
                threads, cpu_affinity(), torch.set_num_threads,
                interval_s=self.interval_s)
        self._log(runner, self.governor.start())

    def after_train_iter(self,
                         runner: Any,
                         batch_idx: int,
                         data_batch: Any = None,
                         outputs: Any = None) -> None:
        governor = self.governor
        if governor is None:
            return
        sample = governor.last_sample
        self._log(runner, governor.poll())
        if governor.last_sample is not sample:  # a check (log_level DEBUG)
            s = governor.last_sample
            runner.logger.debug(
                f'CPU contention check: wait fraction '
                f'{"-" if s.wait is None else format(s.wait, ".3f")}, '
                f'{s.active:.2f} runnable and {s.run:.2f} running threads, '
                f'{s.idle:.2f} idle cores over {s.seconds:.1f} s; '
                f'intra-op threads {governor.threads}')

    def after_train(self, runner: Any) -> None:
        """Give the next run in this process (``run_experiments.py``
        trains one config after another) the start thread count back."""
        if self.governor is not None:
            self.governor.restore()

    @staticmethod
    def _log(runner: Any, line: Optional[str]) -> None:
        if line:
            runner.logger.info(line)
