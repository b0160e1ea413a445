"""Parameters and FLOPs of a deployed network's inference at one input size.

FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` while the
network runs :meth:`inference_logits` on a ``[1, 3, H, W]`` input exactly as
``inference_model`` runs it (``test_cfg`` whole or sliding windows; HRDA's
context and detail scales, the detail one by its sliding windows; EGLP's
fusion: both teachers). torch counts a multiply-add as 2 FLOPs and counts
matrix products, convolutions and attention (``scaled_dot_product_attention``;
its CPU kernel, absent from torch's table, is added here);
element-wise operations, normalisation, softmax and resizing are not counted.
Papers that report "FLOPs" from mmcv/fvcore counters (SegFormer, DAFormer)
count multiply-adds, i.e. about half of torch's figure: both are printed.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn


@dataclass
class Complexity:
    """What :func:`inference_complexity` measured.

    Attributes:
        shape: ``(H, W)`` of the input.
        params: parameters of the modules that ran, by part (``backbone``:
            every module under a segmentor's ``backbone``; ``heads``: the
            rest), and ``total``.
        params_in_network: all parameters of the deployed network(s),
            including ones inference never uses (e.g. the ``conv_seg`` of
            SegFormer's head).
        flops: torch's FLOP count by part (``backbone``, ``heads``) and
            ``total``.
        backbone_inputs: ``(B, C, H, W)`` of every backbone call (HRDA: the
            context image, then the batched detail windows).
    """
    shape: Tuple[int, int]
    params: Dict[str, int]
    params_in_network: int
    flops: Dict[str, int]
    backbone_inputs: List[Tuple[int, ...]] = field(default_factory=list)


def _network(model: nn.Module) -> nn.Module:
    deployed = getattr(model, 'deployed_model', None)
    return deployed() if callable(deployed) else model


def sdpa_flops(query_shape, key_shape, value_shape, *args, out_shape=None,
               **kwargs) -> int:
    """FLOPs of ``softmax(q k^T) v`` for ``[B, heads, N, d]`` shapes: two
    batched matrix products, ``2 * B * heads * N_q * N_k * (d_k + d_v)``
    (torch's own formula, for the CPU kernel its counter does not list)."""
    b, h, n_q, d_k = query_shape
    n_k, d_v = key_shape[-2], value_shape[-1]
    return 2 * b * h * n_q * n_k * (d_k + d_v)


def _cpu_attention_ops() -> Dict:
    """Attention kernels missing from ``FlopCounterMode``'s table (CPU)."""
    op = getattr(torch.ops.aten, '_scaled_dot_product_flash_attention_for_cpu',
                 None)
    return {op: sdpa_flops} if op is not None else {}


def _modules_of(network) -> List[nn.Module]:
    """The module(s) a deployed network is: itself, or the networks a
    wrapper without weights (EGLP's ``TeacherFusion``) holds."""
    if isinstance(network, nn.Module):
        return [network]
    return [v for v in vars(network).values() if isinstance(v, nn.Module)]


def _backbones(module: nn.Module) -> List[nn.Module]:
    """Every ``backbone`` attribute module inside ``module`` (segmentors)."""
    return [m.backbone for m in module.modules()
            if isinstance(getattr(m, 'backbone', None), nn.Module)]


@torch.no_grad()
def inference_complexity(model: nn.Module,
                         shape: Sequence[int]) -> Complexity:
    """Count parameters and FLOPs of ``model``'s inference on one
    ``[1, 3, H, W]`` image (``shape = (H, W)``, pixels).

    ``model`` comes from :func:`init_model` (the deployed network, or a UDA
    module whose ``deployed_model()`` predicts). The network's weights do
    not change the count.
    """
    from torch.utils.flop_counter import FlopCounterMode

    from .inference import model_device
    h, w = (int(v) for v in shape)
    network = _network(model)
    backbones = _backbones(model)
    backbone_params = {id(p) for b in backbones for p in b.parameters()}
    used: Dict[int, nn.Parameter] = {}
    inputs: List[Tuple[int, ...]] = []

    def record(module, args):
        for p in module.parameters(recurse=False):
            used[id(p)] = p

    def record_input(module, args):
        inputs.append(tuple(args[0].shape))

    hooks = [m.register_forward_pre_hook(record) for m in model.modules()]
    hooks += [b.register_forward_pre_hook(record_input) for b in backbones]
    img = torch.zeros(1, 3, h, w, device=model_device(model))
    metas = [dict(img_shape=(h, w, 3), ori_shape=(h, w, 3),
                  pad_shape=(h, w, 3), flip=False)]
    counter = FlopCounterMode(display=False,
                               custom_mapping=_cpu_attention_ops())
    try:
        with counter:
            network.inference_logits(img, metas, rescale=False)
    finally:
        for hook in hooks:
            hook.remove()
    counts = counter.get_flop_counts()
    backbone_classes = {type(b).__name__ for b in backbones}
    backbone_flops = sum(sum(counts.get(name, {}).values())
                         for name in backbone_classes)
    total_flops = counter.get_total_flops()
    params_backbone = sum(p.numel() for k, p in used.items()
                          if k in backbone_params)
    params_total = sum(p.numel() for p in used.values())
    in_network = {id(p): p for m in _modules_of(network)
                  for p in m.parameters()}
    return Complexity(
        shape=(h, w),
        params=dict(backbone=params_backbone,
                    heads=params_total - params_backbone,
                    total=params_total),
        params_in_network=sum(p.numel() for p in in_network.values()),
        flops=dict(backbone=backbone_flops,
                   heads=total_flops - backbone_flops, total=total_flops),
        backbone_inputs=inputs)


def config_complexity(config, shape: Sequence[int], cfg_options=None,
                      test_model=None) -> Tuple[nn.Module, Complexity]:
    """Build ``config``'s deployed network without weights and count it.

    Runs on PyTorch's ``meta`` device (shapes only, no arithmetic: seconds
    even for HRDA with MiT-B5 at 1024x2048); a network with an operation
    that needs values is counted on the CPU instead. Returns the model (from
    :func:`init_model`) and its :class:`Complexity`.
    """
    from .init import init_model
    try:
        model = init_model(config, None, device='meta',
                           cfg_options=cfg_options, test_model=test_model)
        return model, inference_complexity(model, shape)
    except (NotImplementedError, RuntimeError):  # an op needs real values
        model = init_model(config, None, cfg_options=cfg_options,
                           test_model=test_model)
        return model, inference_complexity(model, shape)
