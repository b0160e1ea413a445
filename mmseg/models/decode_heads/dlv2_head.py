"""DeepLabV2 classifier: sum of dilated 3x3 convolutions (no norm/act)."""
from typing import Sequence

import torch

from mmseg.models.decode_heads.aspp_module import ASPPModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS


@MODELS.register_module()
class DLV2Head(BaseDecodeHead):
    """ASPP branches with ``num_classes`` outputs each, summed (stride 8).

    ``channels``, ``dropout_ratio`` and ``norm_cfg`` are fixed (1, 0, None)
    and must not be given; there is no ``conv_seg``.
    """

    def __init__(self, dilations: Sequence[int] = (6, 12, 18, 24),
                 **kwargs) -> None:
        for fixed in ('channels', 'dropout_ratio', 'norm_cfg'):
            if fixed in kwargs:
                raise ValueError(f'DLV2Head: {fixed} is fixed and must not '
                                 'be set')
        kwargs.setdefault('init_cfg', dict(
            type='Normal', std=0.01, override=dict(name='aspp_modules')))
        super().__init__(channels=1, dropout_ratio=0, norm_cfg=None, **kwargs)
        del self.conv_seg
        self.dilations = tuple(dilations)
        self.aspp_modules = ASPPModule(
            self.dilations, self.in_channels, self.num_classes,
            norm_cfg=None, act_cfg=None, conv_cfg=self.conv_cfg)

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        outs = self.aspp_modules(self._transform_inputs(inputs))
        return torch.stack(outs).sum(0)
