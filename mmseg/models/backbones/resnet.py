"""Bottleneck ResNet with mmseg's V1c deep stem, for DeepLabV2 baselines.

Module names follow mmseg (``stem.{0,1,3,4,6,7}``, ``layer{i}.{j}.conv1/bn1``
..., ``layer{i}.0.downsample.{0,1}``) so mmseg's ``resnet50_v1c`` /
``resnet101_v1c`` ImageNet weights and DAFormer DeepLabV2 checkpoints load
strictly. ``strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4)`` gives output
stride 8 (the ``-d8`` configs).
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.logging import print_log
from mmengine.model import BaseModule

from mmseg.models.weights import load_backbone_pretrained
from mmseg.registry import MODELS

DEPTH_TO_BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def conv3x3(cin: int, cout: int, stride: int = 1,
            dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation,
                     dilation=dilation, bias=False)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (strided, dilated; 'pytorch' style) -> 1x1, x4 expansion."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int,
                 dilation: int, norm_cfg: dict,
                 downsample: Optional[nn.Module]) -> None:
        super().__init__()
        out = planes * self.expansion
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.add_module('bn1', build_norm_layer(norm_cfg, planes)[1])
        self.conv2 = conv3x3(planes, planes, stride, dilation)
        self.add_module('bn2', build_norm_layer(norm_cfg, planes)[1])
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.add_module('bn3', build_norm_layer(norm_cfg, out)[1])
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def make_res_layer(inplanes: int, planes: int, num_blocks: int, stride: int,
                   dilation: int, norm_cfg: dict,
                   contract_dilation: bool) -> nn.Sequential:
    """A stage; with contract_dilation its first block halves the dilation."""
    out = planes * Bottleneck.expansion
    downsample = None
    if stride != 1 or inplanes != out:
        downsample = nn.Sequential(
            nn.Conv2d(inplanes, out, 1, stride=stride, bias=False),
            build_norm_layer(norm_cfg, out)[1])
    first_dilation = dilation // 2 if contract_dilation and dilation > 1 \
        else dilation
    blocks = [Bottleneck(inplanes, planes, stride, first_dilation, norm_cfg,
                         downsample)]
    blocks += [Bottleneck(out, planes, 1, dilation, norm_cfg, None)
               for _ in range(1, num_blocks)]
    return nn.Sequential(*blocks)


@MODELS.register_module()
class ResNetV1c(BaseModule):
    """ResNet-50/101/152 with a three-conv 3x3 deep stem (mmseg ``ResNetV1c``).

    Args:
        depth: 50, 101 or 152.
        strides, dilations: per-stage stride and dilation.
        out_indices: stages whose outputs are returned.
        norm_cfg: norm layer config (``BN``).
        norm_eval: keep BN layers in eval mode while training.
        contract_dilation: halve the dilation of each dilated stage's
            first block.
        frozen_stages: stem and the first ``frozen_stages`` stages get no
            gradient (-1: none).
        pretrained: checkpoint path loaded by :meth:`init_weights`.
        style, num_stages: accepted for config compatibility
            (only ``'pytorch'`` and 4 stages).
    """

    def __init__(self,
                 depth: int = 50,
                 num_stages: int = 4,
                 strides: Sequence[int] = (1, 2, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1, 1),
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 norm_cfg: Optional[dict] = None,
                 norm_eval: bool = False,
                 contract_dilation: bool = False,
                 frozen_stages: int = -1,
                 stem_channels: int = 64,
                 in_channels: int = 3,
                 style: str = 'pytorch',
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if depth not in DEPTH_TO_BLOCKS:
            raise ValueError(f'ResNetV1c: invalid depth {depth}')
        if num_stages != 4 or style != 'pytorch':
            raise ValueError('ResNetV1c supports num_stages=4, '
                             "style='pytorch' only")
        norm_cfg = norm_cfg or dict(type='BN', requires_grad=True)
        self.pretrained = pretrained
        self.out_indices = tuple(out_indices)
        self.norm_eval = norm_eval
        self.frozen_stages = frozen_stages
        self.stem = self.make_stem(in_channels, stem_channels, norm_cfg)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inplanes = stem_channels
        for i, blocks in enumerate(DEPTH_TO_BLOCKS[depth]):
            planes = 64 * 2**i
            self.add_module(f'layer{i + 1}', make_res_layer(
                inplanes, planes, blocks, strides[i], dilations[i], norm_cfg,
                contract_dilation))
            inplanes = planes * Bottleneck.expansion
        self.freeze_stages()

    @staticmethod
    def make_stem(cin: int, channels: int, norm_cfg: dict) -> nn.Sequential:
        half = channels // 2
        return nn.Sequential(
            conv3x3(cin, half, stride=2), build_norm_layer(norm_cfg, half)[1],
            nn.ReLU(inplace=True),
            conv3x3(half, half), build_norm_layer(norm_cfg, half)[1],
            nn.ReLU(inplace=True),
            conv3x3(half, channels), build_norm_layer(norm_cfg, channels)[1],
            nn.ReLU(inplace=True))

    def freeze_stages(self) -> None:
        frozen: List[nn.Module] = []
        if self.frozen_stages >= 0:
            frozen.append(self.stem)
        frozen += [getattr(self, f'layer{i}')
                   for i in range(1, self.frozen_stages + 1)]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.maxpool(self.stem(x))
        outs = []
        for i in range(4):
            x = getattr(self, f'layer{i + 1}')(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> 'ResNetV1c':
        super().train(mode)
        self.freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def init_weights(self) -> None:
        """Load ``pretrained`` or use Kaiming (conv) / constant (norm) init."""
        if self.pretrained is not None:
            load_backbone_pretrained(self, self.pretrained)
            return
        if self.init_cfg is not None:
            super().init_weights()
            return
        print_log('Init ResNetV1c from scratch.', logger='current')
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                        nonlinearity='relu')
            elif isinstance(m, (nn.modules.batchnorm._BatchNorm,
                                nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
