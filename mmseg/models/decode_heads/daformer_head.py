"""DAFormer decoder: per-level embeddings fused by (separable) ASPP."""
import copy
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule

from mmseg.models.decode_heads.aspp_module import ASPPModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead, resize_to
from mmseg.models.decode_heads.segformer_head import MLP, tokens_to_map
from mmseg.models.utils.checkpointing import checkpointed, should_checkpoint
from mmseg.registry import MODELS


class ASPPWrapper(nn.Module):
    """ASPP branches (+ optional pooling/context branch) -> 3x3 bottleneck.

    Args:
        in_channels, channels: input and branch/output channels.
        sep: depthwise-separable dilated branches.
        dilations: one branch per dilation (1 = 1x1 conv).
        pool: add a global-average-pooling branch.
        norm_cfg, act_cfg: of every ConvModule.
        align_corners: of the pooled branch's upsampling.
        context_cfg: optional extra branch built by :func:`build_layer`.
    """

    def __init__(self, in_channels: int, channels: int, sep: bool,
                 dilations: Sequence[int], pool: bool,
                 norm_cfg: Optional[dict], act_cfg: Optional[dict],
                 align_corners: bool = False,
                 context_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.align_corners = align_corners
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(in_channels, channels, 1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg)) if pool else None
        self.context_layer = None if context_cfg is None else \
            build_layer(in_channels, channels, **context_cfg)
        self.aspp_modules = ASPPModule(dilations, in_channels, channels,
                                       norm_cfg=norm_cfg, act_cfg=act_cfg,
                                       separable=sep)
        n_branches = len(dilations) + int(pool) + int(context_cfg is not None)
        self.bottleneck = ConvModule(n_branches * channels, channels, 3,
                                     padding=1, norm_cfg=norm_cfg,
                                     act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs: List[torch.Tensor] = []
        if self.image_pool is not None:
            outs.append(resize_to(self.image_pool(x), x.shape[2:],
                                  self.align_corners))
        if self.context_layer is not None:
            outs.append(self.context_layer(x))
        outs.extend(self.aspp_modules(x))
        return self.bottleneck(torch.cat(outs, dim=1))


def embedded_map(tokens: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``[B, H*W, E]`` tokens -> contiguous ``[B, E, H, W]`` map.

    Not the transposed (channels_last-strided) view: that layout would reach
    the fusion through the resizing and the concatenation, and the
    sep-ASPP's dilated depthwise 3x3 convolutions are about 4x slower
    (forward + backward, oneDNN on CPU) on it than on NCHW.
    """
    return tokens_to_map(tokens, like).contiguous()


def build_layer(in_channels: int, out_channels: int, type: str,
                **kwargs) -> nn.Module:
    """Embedding/fusion layer by name: id, mlp, conv, sep_conv or aspp."""
    if type == 'id':
        return nn.Identity()
    if type == 'mlp':  # act_cfg/norm_cfg of the configs are unused
        return MLP(input_dim=in_channels, embed_dim=out_channels)
    if type in ('conv', 'sep_conv'):
        module = ConvModule if type == 'conv' else DepthwiseSeparableConvModule
        return module(in_channels, out_channels,
                      padding=kwargs['kernel_size'] // 2, **kwargs)
    if type == 'aspp':
        return ASPPWrapper(in_channels, out_channels, **kwargs)
    raise NotImplementedError(f'DAFormerHead: layer type {type!r} is not '
                              'supported (id, mlp, conv, sep_conv, aspp)')


@MODELS.register_module()
class DAFormerHead(BaseDecodeHead):
    """Embed each level to ``embed_dims``, upsample to stride 4, concat, fuse.

    ``decoder_params`` as in DAFormer/HRDA configs: ``embed_dims`` (int or
    per level), ``embed_cfg`` (levels but the last), ``embed_neck_cfg``
    (last level; ``'same_as_embed_cfg'`` allowed) and ``fusion_cfg``
    (``type='aspp'`` with ``sep``, ``dilations``, ``pool``, ``act_cfg``,
    ``norm_cfg``; or ``type='conv'``, the HRDA scale-attention head).
    Modules: ``embed_layers`` (keyed by level index), ``fuse_layer``,
    ``conv_seg``.

    ``with_cp=True`` (activation checkpointing) recomputes the embedding
    and fusion (the stride-4 maps of all levels and the ASPP branches, the
    head's largest activations) in backward instead of keeping them; the
    BatchNorm running statistics are updated once, as without it.
    """

    def __init__(self, with_cp: bool = False, **kwargs) -> None:
        super().__init__(input_transform='multiple_select', **kwargs)
        self.with_cp = with_cp
        if self.align_corners:
            raise ValueError('DAFormerHead requires align_corners=False')
        params = copy.deepcopy(dict(self.decoder_params))
        embed_dims = params['embed_dims']
        if isinstance(embed_dims, int):
            embed_dims = [embed_dims] * len(self.in_index)
        embed_cfg = dict(params['embed_cfg'])
        neck_cfg = params['embed_neck_cfg']
        neck_cfg = embed_cfg if neck_cfg == 'same_as_embed_cfg' \
            else dict(neck_cfg)
        fusion_cfg = dict(params['fusion_cfg'])
        for cfg in (embed_cfg, neck_cfg, fusion_cfg):
            if 'aspp' in cfg['type']:
                cfg['align_corners'] = self.align_corners
        last = self.in_index[-1]
        self.embed_layers = nn.ModuleDict({
            str(i): build_layer(c, e, **(neck_cfg if i == last else embed_cfg))
            for i, c, e in zip(self.in_index, self.in_channels, embed_dims)
        })
        self.fuse_layer = build_layer(sum(embed_dims), self.channels,
                                      **fusion_cfg)

    def embed(self, inputs: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Embedded levels, all at the size of the first input (stride 4)."""
        size = inputs[0].shape[2:]
        out = []
        for i in self.in_index:
            x = self.embed_layers[str(i)](inputs[i])
            if x.dim() == 3:
                x = embedded_map(x, inputs[i])
            out.append(resize_to(x, size, self.align_corners))
        return out

    def fuse(self, *inputs: torch.Tensor) -> torch.Tensor:
        """Embedded levels concatenated and fused: ``[B, channels, h, w]``."""
        return self.fuse_layer(torch.cat(self.embed(inputs), 1))

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        if should_checkpoint(self.with_cp, self):
            fused = checkpointed(self.fuse, *inputs, stats_module=self)
        else:
            fused = self.fuse(*inputs)
        return self.cls_seg(fused)
