"""mmseg 1.x MiT state dicts (``layers.{i}.*``) -> our keys.

mmseg 1.x (``mmseg/models/backbones/mit.py``) stores stage ``i`` (0-based) as
``layers.{i}.0`` (patch embedding: ``projection``, ``norm``),
``layers.{i}.1.{j}`` (blocks: ``norm1``, ``attn.attn`` = an
``nn.MultiheadAttention`` with a fused ``in_proj`` of query, key and value
rows, ``attn.sr``/``attn.norm``, ``norm2``, ``ffn.layers.{0,1,4}`` = 1x1 conv,
depthwise 3x3 conv, 1x1 conv) and ``layers.{i}.2`` (the stage norm). Its
LayerNorms use ``eps=1e-6`` throughout (ours: 1e-5 in the patch embedding and
the key/value reduction, as SegFormer).

mmseg 1.x's ``SegformerHead`` is another network than SegFormer's (a 1x1
conv + BN + ReLU per level before the fusion), so only the encoder of a
1.x segmentor is converted.
"""
import re
from typing import Dict, List, Tuple

import torch

Tensors = Dict[str, torch.Tensor]
MARKER = 'layers.0.0.projection.weight'

_BLOCK_NAMES = {
    'norm1': 'norm1',
    'norm2': 'norm2',
    'attn.attn.out_proj': 'attn.proj',
    'attn.sr': 'attn.sr',
    'attn.norm': 'attn.norm',
    'ffn.layers.0': 'mlp.fc1',
    'ffn.layers.1': 'mlp.dwconv.dwconv',
    'ffn.layers.4': 'mlp.fc2',
}
_POINTWISE = ('mlp.fc1.weight', 'mlp.fc2.weight')


def backbone_tensors(state: Tensors) -> Tuple[Tensors, List[str]]:
    """The MiT tensors of a 1.x backbone or segmentor file (``backbone.``
    removed) and the keys of everything else (decode head, auxiliary
    heads)."""
    if any(k.startswith('backbone.layers.') for k in state):
        inside = {k[len('backbone.'):]: v for k, v in state.items()
                  if k.startswith('backbone.')}
        return inside, [k for k in state if not k.startswith('backbone.')]
    return dict(state), []


def is_mmseg1x_mit(state: Tensors) -> bool:
    return MARKER in state or 'backbone.' + MARKER in state


def convert(state: Tensors) -> Tensors:
    """mmseg 1.x MiT tensors (``layers.*``) -> our MiT keys.

    Raises ``KeyError`` naming a key it does not know.
    """
    out: Tensors = {}
    for key, value in state.items():
        m = re.match(r'layers\.(\d+)\.0\.(projection|norm)\.(\w+)$', key)
        if m:
            part = 'proj' if m.group(2) == 'projection' else 'norm'
            out[f'patch_embed{int(m.group(1)) + 1}.{part}.{m.group(3)}'] = \
                value
            continue
        m = re.match(r'layers\.(\d+)\.2\.(\w+)$', key)
        if m:
            out[f'norm{int(m.group(1)) + 1}.{m.group(2)}'] = value
            continue
        m = re.match(r'layers\.(\d+)\.1\.(\d+)\.(.+?)\.?(in_proj_weight|'
                     r'in_proj_bias|weight|bias)$', key)
        if not m:
            raise KeyError(key)
        prefix = f'block{int(m.group(1)) + 1}.{m.group(2)}.'
        module, param = m.group(3), m.group(4)
        if param.startswith('in_proj_'):
            kind = param[len('in_proj_'):]
            q, kv = value.split([value.shape[0] // 3,
                                 value.shape[0] * 2 // 3])
            out[f'{prefix}attn.q.{kind}'] = q.contiguous()
            out[f'{prefix}attn.kv.{kind}'] = kv.contiguous()
            continue
        if module not in _BLOCK_NAMES:
            raise KeyError(key)
        name = f'{_BLOCK_NAMES[module]}.{param}'
        if name in _POINTWISE:
            value = value.flatten(1)  # 1x1 conv [out, in, 1, 1] -> linear
        out[prefix + name] = value
    return out
