"""Mix Transformer (MiT) encoder of SegFormer, as used by DAFormer/HRDA.

One parametrised class, :class:`MixVisionTransformer`; the variants
``mit_b0`` .. ``mit_b5`` are registered factories over a table of
hyper-parameters. Module names follow SegFormer's so that its ImageNet
weights (``pretrained/mit_b5.pth``) and DAFormer/HRDA checkpoints load
strictly: ``patch_embed{i}.proj/norm``, ``block{i}.{j}.norm1/attn/norm2/mlp``
and ``norm{i}`` for the stages ``i = 1..4``.
"""
import math
from functools import partial
from typing import Callable, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from mmengine.logging import print_log
from mmengine.model import BaseModule

from mmseg.models.utils.checkpointing import checkpointed, should_checkpoint
from mmseg.models.weights import load_backbone_pretrained
from mmseg.registry import MODELS


def tokens_to_map(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """``[B, h*w, C]`` tokens -> ``[B, C, h, w]`` map."""
    return x.transpose(1, 2).reshape(x.shape[0], -1, h, w)


def map_to_tokens(x: torch.Tensor) -> torch.Tensor:
    """``[B, C, h, w]`` map -> ``[B, h*w, C]`` tokens."""
    return x.flatten(2).transpose(1, 2)


class OverlapPatchEmbed(nn.Module):
    """Strided convolution with overlapping windows, then LayerNorm."""

    def __init__(self, in_chans: int, embed_dim: int, patch_size: int,
                 stride: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size,
                              stride=stride, padding=patch_size // 2)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, int, int]:
        x = self.proj(x)
        h, w = x.shape[2:]
        return self.norm(map_to_tokens(x)), h, w


class EfficientSelfAttention(nn.Module):
    """Multi-head self-attention with keys/values reduced by ``sr_ratio``.

    Keys and values come from the token map downsampled by a
    ``sr_ratio``-strided convolution and a LayerNorm; the attention itself
    runs through ``F.scaled_dot_product_attention`` with SegFormer's scale
    ``head_dim ** -0.5``.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True,
                 attn_drop: float = 0., proj_drop: float = 0.,
                 sr_ratio: int = 1) -> None:
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f'dim {dim} is not divisible by num_heads '
                             f'{num_heads}')
        self.num_heads = num_heads
        self.scale = (dim // num_heads)**-0.5
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, dim * 2, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.sr_ratio = sr_ratio
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, kernel_size=sr_ratio,
                                stride=sr_ratio)
            self.norm = nn.LayerNorm(dim)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, N, C]`` -> ``[B, heads, N, C/heads]``."""
        b, n, c = x.shape
        return x.reshape(b, n, self.num_heads, c // self.num_heads) \
            .transpose(1, 2)

    def reduced_tokens(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        """Tokens the keys/values are computed from."""
        if self.sr_ratio == 1:
            return x
        return self.norm(map_to_tokens(self.sr(tokens_to_map(x, h, w))))

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        b, n, c = x.shape
        q = self.split_heads(self.q(x))
        k, v = self.kv(self.reduced_tokens(x, h, w)).chunk(2, dim=-1)
        out = F.scaled_dot_product_attention(
            q, self.split_heads(k), self.split_heads(v),
            dropout_p=self.attn_drop if self.training else 0.,
            scale=self.scale)
        out = out.transpose(1, 2).reshape(b, n, c)
        return self.proj_drop(self.proj(out))


class DWConv(nn.Module):
    """3x3 depthwise convolution applied on the token grid."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, bias=True, groups=dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        return map_to_tokens(self.dwconv(tokens_to_map(x, h, w)))


class MixFFN(nn.Module):
    """Linear -> depthwise 3x3 conv -> GELU -> Linear."""

    def __init__(self, dim: int, hidden_dim: int, drop: float = 0.) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.dwconv = DWConv(hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        x = self.drop(self.act(self.dwconv(self.fc1(x), h, w)))
        return self.drop(self.fc2(x))


class TransformerBlock(nn.Module):
    """Pre-norm block: ``x + DP(Attn(LN x))`` then ``x + DP(FFN(LN x))``
    (``DP``: stochastic depth, :meth:`add_branch`)."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float,
                 qkv_bias: bool, drop: float, attn_drop: float,
                 drop_path: float, norm_layer: Callable[[int], nn.Module],
                 sr_ratio: int) -> None:
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = EfficientSelfAttention(dim, num_heads, qkv_bias,
                                           attn_drop, drop, sr_ratio)
        self.drop_path = DropPath(drop_path) if drop_path > 0 \
            else nn.Identity()
        self.drop_prob = drop_path
        self.norm2 = norm_layer(dim)
        self.mlp = MixFFN(dim, int(dim * mlp_ratio), drop)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        x = self.add_branch(x, self.attn(self.norm1(x), h, w))
        return self.add_branch(x, self.mlp(self.norm2(x), h, w))

    def add_branch(self, x: torch.Tensor,
                   branch: torch.Tensor) -> torch.Tensor:
        """``x + DropPath(branch)`` in one pass over the tokens.

        Stochastic depth (Huang et al. 2016, as ``drop_path`` of timm/mmcv,
        with the same random draw): while training, each sample keeps its
        branch with probability ``1 - p``, scaled by ``1 / (1 - p)``. The
        per-sample factor ``[B, 1, 1]`` is applied by one ``addcmul``
        instead of a division, a multiplication and an addition over
        ``[B, N, C]`` (and their gradients). A low-precision branch under
        autocast takes mmcv's ``DropPath`` as before.
        """
        # the DropPath module's own mode: EMA teachers switch off their
        # stochastic layers only, keeping the blocks in training mode
        if self.drop_prob == 0. or not self.drop_path.training:
            return x + branch
        if branch.dtype != x.dtype:  # autocast: mmcv's rounding, unchanged
            return x + self.drop_path(branch)
        keep = 1. - self.drop_prob
        shape = (branch.shape[0], ) + (1, ) * (branch.dim() - 1)
        mask = (keep + torch.rand(shape, dtype=branch.dtype,
                                  device=branch.device)).floor_()
        return torch.addcmul(x, branch, mask.div_(keep))


@MODELS.register_module()
class MixVisionTransformer(BaseModule):
    """Hierarchical MiT encoder returning 4 maps at strides 4, 8, 16, 32.

    Args:
        embed_dims, num_heads, mlp_ratios, depths, sr_ratios: per-stage
            hyper-parameters (4 entries each).
        in_chans: input channels.
        qkv_bias: bias in the query/key/value projections.
        drop_rate, attn_drop_rate: dropout probabilities.
        drop_path_rate: stochastic depth, linearly spaced from 0 over all
            blocks.
        norm_eps: LayerNorm epsilon of the blocks and stage norms.
        pretrained: path of SegFormer ImageNet weights loaded by
            :meth:`init_weights`; None = random init.
        style: accepted for config compatibility, unused.
        with_cp: activation checkpointing (mmseg's name): while training,
            each transformer block keeps only its input and recomputes its
            activations in backward (``torch.utils.checkpoint``,
            non-reentrant). Same gradients and state-dict keys; less memory,
            about one more forward of the blocks in time.
    """

    def __init__(self,
                 embed_dims: Sequence[int] = (64, 128, 256, 512),
                 num_heads: Sequence[int] = (1, 2, 4, 8),
                 mlp_ratios: Sequence[float] = (4, 4, 4, 4),
                 depths: Sequence[int] = (3, 4, 6, 3),
                 sr_ratios: Sequence[int] = (8, 4, 2, 1),
                 in_chans: int = 3,
                 qkv_bias: bool = True,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.1,
                 norm_eps: float = 1e-6,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None,
                 style: Optional[str] = None,
                 with_cp: bool = False) -> None:
        super().__init__(init_cfg)
        self.with_cp = with_cp
        if pretrained is not None and init_cfg is not None:
            raise ValueError('MixVisionTransformer: set either pretrained or '
                             'init_cfg, not both')
        self.pretrained = pretrained
        self.depths = list(depths)
        self.sr_ratios = list(sr_ratios)
        norm_layer = partial(nn.LayerNorm, eps=norm_eps)
        rates = torch.linspace(0, drop_path_rate, sum(depths),
                               device='cpu').tolist()
        in_dims = [in_chans] + list(embed_dims[:-1])
        for i in range(4):
            first = sum(depths[:i])
            self.add_module(f'patch_embed{i + 1}', OverlapPatchEmbed(
                in_dims[i], embed_dims[i], patch_size=7 if i == 0 else 3,
                stride=4 if i == 0 else 2))
            self.add_module(f'block{i + 1}', nn.ModuleList([
                TransformerBlock(embed_dims[i], num_heads[i], mlp_ratios[i],
                                 qkv_bias, drop_rate, attn_drop_rate,
                                 rates[first + j], norm_layer, sr_ratios[i])
                for j in range(depths[i])
            ]))
            self.add_module(f'norm{i + 1}', norm_layer(embed_dims[i]))

    @property
    def min_input_size(self) -> int:
        """Smallest input side (px): stage ``i`` (stride ``s_i`` = 4, 8, 16,
        32) maps ``L`` px to ``ceil(L / s_i)`` tokens, which its key/value
        reduction (kernel ``sr_i``) needs at least ``sr_i`` of, i.e.
        ``L > s_i * (sr_i - 1)``; 29 px for ``sr_ratios = (8, 4, 2, 1)``."""
        return max(4 * 2**i * (sr - 1) + 1
                   for i, sr in enumerate(self.sr_ratios))

    def stage(self, i: int) -> Tuple[nn.Module, nn.ModuleList, nn.Module]:
        """Patch embedding, blocks and final norm of stage ``i`` (1..4)."""
        return (getattr(self, f'patch_embed{i}'), getattr(self, f'block{i}'),
                getattr(self, f'norm{i}'))

    def degenerate_samples(self, x: torch.Tensor) -> torch.Tensor:
        """Bool ``[B]``: samples whose stage-1 patch embedding is exactly 0.

        That is a blank input (all pixels 0, e.g. a fully block-masked
        image, 0 being the mean colour of a normalised image) while the
        patch-embedding bias is still 0 (SegFormer's from-scratch init).
        Every activation of such a sample is then exactly 0, because all
        biases start at 0, so every LayerNorm of the encoder sees a
        zero-variance input; the backward of each multiplies the gradient
        by ``1 / sqrt(eps)`` (~1e3), and a dozen of them in series overflow
        float32 to inf, which the next LayerNorm backward turns into NaN.
        Device-side test, no host synchronisation.
        """
        blank = (x == 0).flatten(1).all(1)
        bias = self.patch_embed1.proj.bias
        if bias is None:
            return blank
        return blank & (bias == 0).all()

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Maps ``[B, C_i, H / s_i, W / s_i]`` for the strides 4, 8, 16, 32.

        Guard: the features of a :meth:`degenerate_samples` sample are
        detached (its gradient would be meaningless inf/NaN, see there), so
        it trains the decode head but not the encoder. Forward values and
        the other samples' gradients are unchanged. SegFormer/DAFormer/PIG
        have no such guard; they start from ImageNet weights, whose non-zero
        biases never meet this case.
        """
        degenerate = (self.degenerate_samples(x)
                      if torch.is_grad_enabled() else None)
        outs: List[torch.Tensor] = []
        for i in range(1, 5):
            embed, blocks, norm = self.stage(i)
            x, h, w = embed(x)
            for block in blocks:
                x = self.run_block(block, x, h, w)
            x = tokens_to_map(norm(x), h, w).contiguous()
            outs.append(x)
        if degenerate is not None:
            frozen = degenerate.view(-1, 1, 1, 1)
            outs = [torch.where(frozen, out.detach(), out) for out in outs]
        return tuple(outs)

    def run_block(self, block: nn.Module, x: torch.Tensor, h: int,
                  w: int) -> torch.Tensor:
        """One transformer block, checkpointed when ``with_cp`` applies."""
        if should_checkpoint(self.with_cp, self):
            return checkpointed(block, x, h, w)
        return block(x, h, w)

    @staticmethod
    def init_module(m: nn.Module) -> None:
        """SegFormer's from-scratch init of one module."""
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            fan_out //= m.groups
            nn.init.normal_(m.weight, 0, math.sqrt(2.0 / fan_out))
            if m.bias is not None:
                nn.init.zeros_(m.bias)

    def init_weights(self) -> None:
        """Load ``pretrained`` (strict, classifier dropped) or init anew."""
        if self.pretrained is not None:
            load_backbone_pretrained(self, self.pretrained)
        elif self.init_cfg is not None:
            super().init_weights()
        else:
            print_log('Init mit from scratch.', logger='current')
            self.apply(self.init_module)


# Variant table of SegFormer (MiT-B0 .. B5).
MIT_VARIANTS = {
    'mit_b0': dict(embed_dims=(32, 64, 160, 256), depths=(2, 2, 2, 2)),
    'mit_b1': dict(embed_dims=(64, 128, 320, 512), depths=(2, 2, 2, 2)),
    'mit_b2': dict(embed_dims=(64, 128, 320, 512), depths=(3, 4, 6, 3)),
    'mit_b3': dict(embed_dims=(64, 128, 320, 512), depths=(3, 4, 18, 3)),
    'mit_b4': dict(embed_dims=(64, 128, 320, 512), depths=(3, 8, 27, 3)),
    'mit_b5': dict(embed_dims=(64, 128, 320, 512), depths=(3, 6, 40, 3)),
}
MIT_SHARED = dict(num_heads=(1, 2, 5, 8), mlp_ratios=(4, 4, 4, 4),
                  sr_ratios=(8, 4, 2, 1), qkv_bias=True, norm_eps=1e-6)


def _mit_factory(name: str) -> Callable[..., MixVisionTransformer]:

    def build(**kwargs) -> MixVisionTransformer:
        return MixVisionTransformer(
            **{**MIT_SHARED, **MIT_VARIANTS[name], **kwargs})

    build.__name__ = name
    build.__doc__ = f'MiT variant {name[-2:].upper()} of SegFormer.'
    return build


for _name in MIT_VARIANTS:
    MODELS.register_module(name=_name, module=_mit_factory(_name))
