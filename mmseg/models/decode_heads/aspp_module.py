"""Parallel dilated-convolution branches (ASPP) of DAFormer and DeepLabV2."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule


class ASPPModule(nn.ModuleList):
    """One branch per dilation: 1x1 conv for dilation 1, else dilated 3x3.

    With ``separable`` the dilated branches are depthwise-separable
    (depthwise 3x3 + pointwise 1x1, each with norm and activation).
    ``forward`` returns the list of branch outputs.
    """

    def __init__(self,
                 dilations: Sequence[int],
                 in_channels: int,
                 channels: int,
                 norm_cfg: Optional[dict],
                 act_cfg: Optional[dict],
                 conv_cfg: Optional[dict] = None,
                 separable: bool = False) -> None:
        super().__init__()
        self.dilations = tuple(dilations)
        for d in self.dilations:
            if separable and d > 1:
                branch = DepthwiseSeparableConvModule(
                    in_channels, channels, 3, dilation=d, padding=d,
                    norm_cfg=norm_cfg, act_cfg=act_cfg)
            else:
                branch = ConvModule(
                    in_channels, channels, 1 if d == 1 else 3, dilation=d,
                    padding=0 if d == 1 else d, conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg, act_cfg=act_cfg)
            self.append(branch)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [branch(x) for branch in self]
