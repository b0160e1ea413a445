"""Dilated depthwise convolution with a fast CPU weight gradient.

On CPU (oneDNN, torch 2.x) a dilated depthwise 3x3 convolution is slow in
both layouts DAFormer's separable ASPP can hand it: with a channels_last map
(what the token-to-map transpose gives) forward and input gradient are about
3x slower than with a contiguous NCHW map, and with an NCHW map the weight
gradient is about 50x slower (measured on [2, 1024, 64, 64], dilation 12:
forward 0.35 s NCHW / 1.3 s channels_last; weight gradient 25 s / 2.0 s).

:class:`DepthwiseConv2d` runs forward and input gradient on the contiguous
NCHW map and computes the weight gradient directly, one kernel tap at a
time: ``dL/dw[c, i, j] = sum_{b, y, x} g[b, c, y, x] * xpad[b, c, y + i*d,
x + j*d]`` (the definition of the convolution's weight gradient). Same
parameters and state-dict keys as ``nn.Conv2d``; the same values up to float
summation order. Elsewhere (CUDA, autocast, strides, non-depthwise layers)
it is a plain ``nn.Conv2d``.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

Pair = Tuple[int, int]


class _DepthwiseConvFunction(torch.autograd.Function):
    """Stride-1 depthwise convolution of a ``[B, C, H, W]`` map."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor,
                bias: Optional[torch.Tensor], padding: Pair,
                dilation: Pair) -> torch.Tensor:
        x = x.contiguous()
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        ctx.padding, ctx.dilation = padding, dilation
        return F.conv2d(x, weight, bias, 1, padding, dilation, x.shape[1])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        grad = grad.contiguous()
        channels = x.shape[1]
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.ops.aten.convolution_backward(
                grad, x, weight, None, [1, 1], list(ctx.padding),
                list(ctx.dilation), False, [0, 0], channels,
                [True, False, False])[0]
        if ctx.needs_input_grad[1]:
            grad_w = depthwise_weight_grad(x, grad, weight.shape[2:],
                                           ctx.padding, ctx.dilation)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3))
        return grad_x, grad_w, grad_b, None, None


def depthwise_weight_grad(x: torch.Tensor, grad: torch.Tensor,
                          kernel_size: Tuple[int, int], padding: Pair,
                          dilation: Pair) -> torch.Tensor:
    """Weight gradient ``[C, 1, kh, kw]`` of a stride-1 depthwise conv.

    Tap ``(i, j)`` pairs output pixel ``(y, x)`` with input pixel
    ``(y + i*dh - ph, x + j*dw - pw)``; only the overlap of the two maps
    contributes (the rest is zero padding), so no padded copy is made. The
    products go to one reused buffer (no allocation per tap).

    Args:
        x: its input ``[B, C, H, W]``, contiguous.
        grad: gradient of its output ``[B, C, H_out, W_out]``, contiguous.
    """
    (kh, kw), (ph, pw), (dh, dw) = kernel_size, padding, dilation
    h_in, w_in = x.shape[2:]
    h_out, w_out = grad.shape[2:]
    buffer = grad.new_empty(grad.numel())
    taps = grad.new_zeros((x.shape[1], kh * kw))
    for i in range(kh):
        oy = i * dh - ph
        y0, y1 = max(0, -oy), min(h_out, h_in - oy)
        for j in range(kw):
            ox = j * dw - pw
            x0, x1 = max(0, -ox), min(w_out, w_in - ox)
            if y1 <= y0 or x1 <= x0:
                continue
            g = grad[:, :, y0:y1, x0:x1]
            prod = torch.mul(g, x[:, :, y0 + oy:y1 + oy, x0 + ox:x1 + ox],
                             out=buffer[:g.numel()].view(g.shape))
            taps[:, i * kw + j] = prod.sum((0, 2, 3))
    return taps.view(x.shape[1], 1, kh, kw)


class DepthwiseConv2d(nn.Conv2d):
    """``nn.Conv2d`` whose depthwise, stride-1 CPU fp32 calls take the fast
    path above (forward and gradients on a contiguous NCHW map).

    Usable as ``conv_cfg=dict(type=DepthwiseConv2d)`` of mmcv's
    ``ConvModule``/``DepthwiseSeparableConvModule``.
    """

    def fast_path(self, x: torch.Tensor) -> bool:
        return (x.device.type == 'cpu' and x.dtype == torch.float32
                and self.weight.dtype == torch.float32
                and not torch.is_autocast_enabled('cpu')
                and self.groups == self.in_channels == self.out_channels
                and self.stride == (1, 1) and self.padding_mode == 'zeros'
                and isinstance(self.padding, tuple))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.fast_path(x):
            return super().forward(x)
        return _DepthwiseConvFunction.apply(x, self.weight, self.bias,
                                            self.padding, self.dilation)
