"""SegFormer's all-MLP decoder (SegFormer baseline; MLP used by DAFormer)."""
from typing import Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from mmseg.models.decode_heads.decode_head import BaseDecodeHead, resize_to
from mmseg.registry import MODELS


class MLP(nn.Module):
    """Per-pixel linear embedding: ``[B, C, H, W]`` -> ``[B, H*W, E]``."""

    def __init__(self, input_dim: int = 2048, embed_dim: int = 768) -> None:
        super().__init__()
        self.proj = nn.Linear(input_dim, embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x.flatten(2).transpose(1, 2))


def tokens_to_map(tokens: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``[B, H*W, E]`` -> ``[B, E, H, W]``, spatial size of ``like``."""
    b, _, h, w = like.shape
    return tokens.transpose(1, 2).reshape(b, -1, h, w)


@MODELS.register_module()
class SegFormerHead(BaseDecodeHead):
    """Embed each level linearly, upsample to stride 4, 1x1 fuse, classify.

    ``decoder_params = dict(embed_dim=768, conv_kernel_size=1)``. The
    classifier is ``linear_pred``; ``conv_seg`` of the base class exists (as
    in SegFormer's checkpoints) but is unused.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(input_transform='multiple_select', **kwargs)
        params = self.decoder_params or {}
        embed_dim = params.get('embed_dim', 768)
        kernel = params.get('conv_kernel_size', 1)
        self.linear_c = nn.ModuleDict({
            str(i): MLP(c, embed_dim)
            for i, c in zip(self.in_index, self.in_channels)
        })
        self.linear_fuse = ConvModule(
            embed_dim * len(self.in_index), embed_dim, kernel,
            padding=kernel // 2, norm_cfg=self.norm_cfg)
        self.linear_pred = nn.Conv2d(embed_dim, self.num_classes, 1)

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        size = inputs[0].shape[2:]
        embedded = [
            resize_to(tokens_to_map(self.linear_c[str(i)](inputs[i]),
                                    inputs[i]), size, False)
            for i in self.in_index
        ]
        x = self.linear_fuse(torch.cat(embedded, dim=1))
        if self.dropout is not None:
            x = self.dropout(x)
        return self.linear_pred(x)
