"""Learning-rate schedule of HRDA/DAFormer: poly decay with linear warm-up."""
from typing import List, Optional

from mmengine.optim.scheduler.param_scheduler import _ParamScheduler

from mmseg.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class PolyLRWithWarmup(_ParamScheduler):
    """mmcv 1.x ``poly`` policy with linear warm-up, in closed form.

    ``lr(t) = (lr0 - min_lr) * (1 - t / T) ** power + min_lr`` and, for
    ``t < warmup_iters``, that value times
    ``1 - (1 - t / warmup_iters) * (1 - warmup_ratio)``. ``lr0`` is each group's
    initial lr (including its ``lr_mult``). ``begin``/``end`` are accepted for
    mmengine's scheduler builder; the formula always spans ``max_iters``.
    """

    def __init__(self,
                 optimizer,
                 max_iters: int,
                 power: float = 1.0,
                 min_lr: float = 0.0,
                 warmup_iters: int = 0,
                 warmup_ratio: float = 1e-6,
                 begin: int = 0,
                 end: Optional[int] = None,
                 last_step: int = -1,
                 by_epoch: bool = False,
                 verbose: bool = False):
        if by_epoch:
            raise ValueError('PolyLRWithWarmup is iteration-based')
        self.max_iters = max_iters
        self.power = power
        self.min_lr = min_lr
        self.warmup_iters = warmup_iters
        self.warmup_ratio = warmup_ratio
        super().__init__(
            optimizer,
            param_name='lr',
            begin=begin,
            end=max_iters if end is None else end,
            last_step=last_step,
            by_epoch=False,
            verbose=verbose)

    def lr_at(self, base_lr: float, step: int) -> float:
        progress = min(step, self.max_iters) / self.max_iters
        lr = (base_lr - self.min_lr) * (1 - progress)**self.power + self.min_lr
        if step < self.warmup_iters:
            lr *= 1 - (1 - step / self.warmup_iters) * (1 - self.warmup_ratio)
        return lr

    def _get_value(self) -> List[float]:
        return [
            self.lr_at(group['initial_lr'], self.last_step)
            for group in self.optimizer.param_groups
        ]
