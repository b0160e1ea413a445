"""Base class of the segmentation decode heads (mmseg 0.16 interface)."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmseg.models.losses.accuracy import accuracy
from mmseg.registry import MODELS

Features = Union[torch.Tensor, Sequence[torch.Tensor]]


def resize_to(x: torch.Tensor, size: Sequence[int],
              align_corners: bool = False) -> torch.Tensor:
    """Bilinear resize of a ``[B, C, H, W]`` map (no-op at ``size``)."""
    if tuple(x.shape[2:]) == tuple(size):
        return x
    return F.interpolate(x, size=tuple(size), mode='bilinear',
                         align_corners=align_corners)


class BaseDecodeHead(BaseModule):
    """Decode head: backbone features -> class logits, plus its losses.

    Call graph::

        forward_train(): forward() -> losses(): resize to label -> CE, acc
        forward_test():  forward()
        forward() (subclass): _transform_inputs() -> ... -> cls_seg()

    Args:
        in_channels: channels of the selected input(s).
        channels: channels before ``conv_seg``.
        num_classes: number of classes.
        dropout_ratio: Dropout2d before ``conv_seg``.
        conv_cfg, norm_cfg, act_cfg: layer configs for subclasses.
        in_index: index (or indices) of the backbone outputs used.
        input_transform: None, ``'multiple_select'`` or ``'resize_concat'``.
        loss_decode: loss config (``CrossEntropyLoss``).
        decoder_params: head-specific options (DAFormer/SegFormer).
        ignore_index: label ignored in loss and accuracy.
        align_corners: of every bilinear resize.
        init_cfg: default ``Normal(std=0.01)`` on ``conv_seg``.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 channels: int,
                 *,
                 num_classes: int,
                 dropout_ratio: float = 0.1,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 in_index: Union[int, Sequence[int]] = -1,
                 input_transform: Optional[str] = None,
                 loss_decode: dict = dict(
                     type='CrossEntropyLoss', use_sigmoid=False,
                     loss_weight=1.0),
                 decoder_params: Optional[dict] = None,
                 ignore_index: int = 255,
                 sampler: Optional[dict] = None,
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = dict(
                     type='Normal', std=0.01,
                     override=dict(name='conv_seg'))) -> None:
        super().__init__(init_cfg)
        if sampler is not None:
            raise ValueError(f'{type(self).__name__}: pixel samplers are not '
                             'supported (sampler must be None)')
        self._init_inputs(in_channels, in_index, input_transform)
        self.channels = channels
        self.num_classes = num_classes
        self.dropout_ratio = dropout_ratio
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.decoder_params = decoder_params
        self.loss_decode = MODELS.build(loss_decode)
        self.ignore_index = ignore_index
        self.align_corners = align_corners
        self.conv_seg = nn.Conv2d(channels, num_classes, kernel_size=1)
        self.dropout = nn.Dropout2d(dropout_ratio) if dropout_ratio > 0 \
            else None

    def _init_inputs(self, in_channels, in_index, input_transform) -> None:
        if input_transform not in (None, 'multiple_select', 'resize_concat'):
            raise ValueError(f'invalid input_transform {input_transform!r}')
        self.input_transform = input_transform
        self.in_index = in_index
        if input_transform is None:
            if not isinstance(in_channels, int) or \
                    not isinstance(in_index, int):
                raise ValueError('in_channels and in_index must be ints '
                                 'without input_transform')
            self.in_channels = in_channels
            return
        if len(in_channels) != len(in_index):
            raise ValueError('in_channels and in_index differ in length')
        self.in_index = list(in_index)
        self.in_channels = sum(in_channels) \
            if input_transform == 'resize_concat' else list(in_channels)

    def _transform_inputs(self, inputs: Sequence[torch.Tensor]) -> Features:
        """Select (``resize_concat``: and fuse) the used backbone outputs."""
        if self.input_transform is None:
            return inputs[self.in_index]
        selected = [inputs[i] for i in self.in_index]
        if self.input_transform == 'multiple_select':
            return selected
        size = selected[0].shape[2:]
        return torch.cat(
            [resize_to(x, size, self.align_corners) for x in selected], dim=1)

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def cls_seg(self, feat: torch.Tensor) -> torch.Tensor:
        """Dropout then the 1x1 classifier."""
        if self.dropout is not None:
            feat = self.dropout(feat)
        return self.conv_seg(feat)

    def forward_train(self, inputs: Sequence[torch.Tensor],
                      img_metas: List[dict], gt_semantic_seg: torch.Tensor,
                      train_cfg: Optional[dict],
                      seg_weight: Optional[torch.Tensor] = None
                      ) -> Dict[str, torch.Tensor]:
        """Logits of ``inputs`` and their ``loss_seg``/``acc_seg``."""
        return self.losses(self.forward(inputs), gt_semantic_seg, seg_weight)

    def forward_test(self, inputs: Sequence[torch.Tensor],
                     img_metas: List[dict],
                     test_cfg: Optional[dict]) -> torch.Tensor:
        return self.forward(inputs)

    def losses(self, seg_logit: torch.Tensor, seg_label: torch.Tensor,
               seg_weight: Optional[torch.Tensor] = None
               ) -> Dict[str, torch.Tensor]:
        """Weighted CE and accuracy of logits resized to the label size.

        Args:
            seg_logit: ``[B, C, h, w]`` logits.
            seg_label: ``[B, 1, H, W]`` labels.
            seg_weight: optional ``[B, H, W]`` or ``[B, 1, H, W]`` weights.
        """
        seg_logit = resize_to(seg_logit.float(), seg_label.shape[2:],
                              self.align_corners)
        seg_label = seg_label.squeeze(1)
        return {
            'loss_seg': self.loss_decode(
                seg_logit, seg_label, weight=seg_weight,
                ignore_index=self.ignore_index),
            'acc_seg': accuracy(seg_logit, seg_label, self.ignore_index),
        }
