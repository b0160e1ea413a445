"""Optimiser constructor that only sees trainable parameters."""
from typing import List

from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS


def _drop_frozen_param_warnings(record) -> bool:
    """Frozen parameters are skipped by design; do not warn once per tensor."""
    return 'since its requires_grad=False' not in record.getMessage()


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TrainableOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's constructor (``paramwise_cfg.custom_keys`` etc.) minus frozen
    parameters: EMA teachers, the ImageNet feature model and similarity nets
    have ``requires_grad=False`` and never enter the optimiser."""

    def __call__(self, model: nn.Module):
        if not self.paramwise_cfg:  # force the per-parameter path below
            self.paramwise_cfg = dict(custom_keys={})
        return super().__call__(model)

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   is_dcn_module=None) -> None:
        before = len(params)
        logger = MMLogger.get_current_instance()
        logger.addFilter(_drop_frozen_param_warnings)
        try:
            super().add_params(params, module, prefix, is_dcn_module)
        finally:
            logger.removeFilter(_drop_frozen_param_warnings)
        if not prefix:  # outermost call: drop groups of frozen parameters
            kept = [g for g in params[before:] if g['params'][0].requires_grad]
            del params[before:]
            params.extend(kept)
