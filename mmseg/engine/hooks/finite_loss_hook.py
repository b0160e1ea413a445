"""Stops training at the first non-finite loss, naming the loss term."""
import math
from typing import Any, Dict, Optional

from mmengine.hooks import Hook

from mmseg.registry import HOOKS


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Raise ``FloatingPointError`` when a logged loss (or the gradient norm
    an ``optim_wrapper.clip_grad`` logs) is NaN or inf.

    A non-finite loss means the student's weights, and from the next step
    its EMA teachers, are (or are about to be) no longer finite; training on
    would only spread NaN. The check reads the values that
    :class:`mmengine.hooks.RuntimeInfoHook` already copied to the host for
    logging (priority ``VERY_HIGH``, before this hook), so it adds no
    device synchronisation. It runs before the
    checkpoint hook, so no checkpoint with non-finite weights is written.
    Non-finite gradients with finite losses are caught one iteration later,
    by the losses they cause (or at once through ``grad_norm`` when
    gradient clipping is configured).
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self,
                         runner: Any,
                         batch_idx: int,
                         data_batch: Any = None,
                         outputs: Optional[Dict[str, Any]] = None) -> None:
        keys = [k for k in (outputs or {}) if 'loss' in k]
        hub = runner.message_hub
        if 'train/grad_norm' in hub.log_scalars:
            keys.append('grad_norm')
        values = [(k, hub.get_scalar(f'train/{k}').current()) for k in keys]
        bad = [(k, v) for k, v in values if not math.isfinite(v)]
        if bad:
            terms = ', '.join(f'{k} = {v}' for k, v in bad)
            raise FloatingPointError(
                f'non-finite training loss at iteration {runner.iter + 1}: '
                f'{terms}; stopped before a checkpoint stores non-finite '
                'weights')
