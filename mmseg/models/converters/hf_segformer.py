"""HuggingFace ``transformers`` SegFormer/MiT state dicts -> our keys.

Published files (``nvidia/mit-b0..b5``: ``SegformerForImageClassification``;
``nvidia/segformer-b*-finetuned-*``: ``SegformerForSemanticSegmentation``;
``SegformerModel``) use the names of transformers 4.x
(``segformer.encoder.block.{i}.{j}.attention.self.query``); transformers 5
keeps them on disk but names its modules differently in memory
(``segformer.stages.{i}.blocks.{j}.attention.q_proj``). Both spellings are
read: the 5.x names are first put back into the published ones.

Differences from our modules (SegFormer's original layout, which our keys
follow):
- attention: separate ``query``/``key``/``value`` -> ``q`` and a fused
  ``kv`` (key rows, then value rows), ``output.dense`` -> ``proj``,
  ``sr`` + ``layer_norm`` -> ``sr`` + ``norm``;
- ``layer_norm_1/2`` -> ``norm1/2``, Mix-FFN ``dense1/2`` -> ``fc1/2``
  (``dwconv.dwconv`` unchanged), per-stage ``encoder.layer_norm.{i}`` ->
  ``norm{i+1}``, ``patch_embeddings.{i}.layer_norm`` -> ``patch_embed{i+1}.norm``;
- decode head: ``linear_fuse`` (a bias-free conv) + ``batch_norm`` -> our
  ``linear_fuse.conv`` + ``linear_fuse.bn``; ``classifier`` -> ``linear_pred``.
  HuggingFace (like SegFormer's original head) concatenates the embedded
  levels deepest first ``[c4, c3, c2, c1]``, our ``SegFormerHead`` (DAFormer's
  loop) ``[c1, c2, c3, c4]``: the input channels of ``linear_fuse`` are
  reordered blockwise so the two heads compute the same function.
- HuggingFace's LayerNorms all use ``eps=1e-5`` (SegFormer's original blocks
  1e-6): set ``norm_eps=1e-5`` on the backbone to reproduce its outputs
  exactly; the difference is far below the features' variance.
"""
import re
from typing import Dict, List, Tuple

import torch

Tensors = Dict[str, torch.Tensor]

# transformers 5.x in-memory names -> published (4.x / on-disk) names
_V5_TO_PUBLISHED: List[Tuple[str, str]] = [
    (r'(^|\.)stages\.(\d+)\.patch_embeddings\.',
     r'\1encoder.patch_embeddings.\2.'),
    (r'(^|\.)stages\.(\d+)\.blocks\.', r'\1encoder.block.\2.'),
    (r'(^|\.)stages\.(\d+)\.layer_norm\.', r'\1encoder.layer_norm.\2.'),
    (r'attention\.q_proj\.', 'attention.self.query.'),
    (r'attention\.k_proj\.', 'attention.self.key.'),
    (r'attention\.v_proj\.', 'attention.self.value.'),
    (r'attention\.sequence_reduction\.sequence_reduction\.',
     'attention.self.sr.'),
    (r'attention\.sequence_reduction\.layer_norm\.',
     'attention.self.layer_norm.'),
    (r'attention\.o_proj\.', 'attention.output.dense.'),
    (r'mlp\.fc1\.', 'mlp.dense1.'),
    (r'mlp\.fc2\.', 'mlp.dense2.'),
    (r'layernorm_before\.', 'layer_norm_1.'),
    (r'layernorm_after\.', 'layer_norm_2.'),
    (r'^decode_head\.linear_projections\.', 'decode_head.linear_c.'),
]

# published block names (after ``encoder.block.{i}.{j}.``) -> ours
_BLOCK_NAMES = {
    'layer_norm_1': 'norm1',
    'layer_norm_2': 'norm2',
    'attention.self.query': 'attn.q',
    'attention.self.sr': 'attn.sr',
    'attention.self.layer_norm': 'attn.norm',
    'attention.output.dense': 'attn.proj',
    'mlp.dense1': 'mlp.fc1',
    'mlp.dwconv.dwconv': 'mlp.dwconv.dwconv',
    'mlp.dense2': 'mlp.fc2',
}
ENCODER_MARKER = 'encoder.patch_embeddings.0.proj.weight'
HEAD_MARKER = 'decode_head.linear_c.0.proj.weight'
IMAGENET_CLASSIFIER = 'classifier.'


def published_names(state: Tensors) -> Tensors:
    """Put transformers-5 module names back into the published spelling and
    drop a leading ``segformer.`` (the base-model prefix)."""
    out: Tensors = {}
    for key, value in state.items():
        for pattern, repl in _V5_TO_PUBLISHED:
            key = re.sub(pattern, repl, key)
        if key.startswith('segformer.'):
            key = key[len('segformer.'):]
        out[key] = value
    return out


def is_hf_encoder(state: Tensors) -> bool:
    return ENCODER_MARKER in state


def is_hf_segmentation(state: Tensors) -> bool:
    return ENCODER_MARKER in state and HEAD_MARKER in state


def _encoder_key(key: str) -> str:
    """One published encoder key -> ours (``kv`` handled by the caller)."""
    m = re.match(r'encoder\.patch_embeddings\.(\d+)\.(proj|layer_norm)\.'
                 r'(\w+)$', key)
    if m:
        part = 'proj' if m.group(2) == 'proj' else 'norm'
        return f'patch_embed{int(m.group(1)) + 1}.{part}.{m.group(3)}'
    m = re.match(r'encoder\.layer_norm\.(\d+)\.(\w+)$', key)
    if m:
        return f'norm{int(m.group(1)) + 1}.{m.group(2)}'
    m = re.match(r'encoder\.block\.(\d+)\.(\d+)\.(.+)\.(\w+)$', key)
    if m and m.group(3) in _BLOCK_NAMES:
        return (f'block{int(m.group(1)) + 1}.{m.group(2)}.'
                f'{_BLOCK_NAMES[m.group(3)]}.{m.group(4)}')
    raise KeyError(key)


def convert_encoder(state: Tensors) -> Tuple[Tensors, List[str]]:
    """Published ``encoder.*`` tensors -> our MiT keys.

    Returns the converted dict and the keys that were left out (the ImageNet
    ``classifier.*``). Raises ``KeyError`` naming an unknown encoder key.
    """
    out: Tensors = {}
    dropped = [k for k in state if k.startswith(IMAGENET_CLASSIFIER)]
    pending: Dict[str, Dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        if not key.startswith('encoder.'):
            continue
        m = re.match(r'(encoder\.block\.(\d+)\.(\d+))\.attention\.self\.'
                     r'(key|value)\.(\w+)$', key)
        if m:
            ours = (f'block{int(m.group(2)) + 1}.{m.group(3)}.attn.kv.'
                    f'{m.group(5)}')
            pending.setdefault(ours, {})[m.group(4)] = value
            continue
        out[_encoder_key(key)] = value
    for ours, parts in pending.items():
        if set(parts) != {'key', 'value'}:
            raise KeyError(f'{ours}: key and value projections must both be '
                           f'present (found {sorted(parts)})')
        out[ours] = torch.cat([parts['key'], parts['value']], dim=0)
    return out, dropped


def reorder_fuse_weight(weight: torch.Tensor, levels: int) -> torch.Tensor:
    """``linear_fuse`` weight ``[E, L*E, k, k]`` whose input blocks are in
    HuggingFace's ``[c_L, ..., c_1]`` order -> our ``[c_1, ..., c_L]``."""
    blocks = weight.chunk(levels, dim=1)
    return torch.cat(blocks[::-1], dim=1).contiguous()


def convert_head(state: Tensors) -> Tensors:
    """Published ``decode_head.*`` tensors -> our ``SegFormerHead`` keys
    (without ``conv_seg``, which SegFormer's head does not use)."""
    levels = len({k.split('.')[2] for k in state
                  if k.startswith('decode_head.linear_c.')})
    out: Tensors = {}
    for key, value in state.items():
        if not key.startswith('decode_head.'):
            continue
        name = key[len('decode_head.'):]
        if name.startswith('linear_c.'):
            out[name] = value
        elif name == 'linear_fuse.weight':
            out['linear_fuse.conv.weight'] = reorder_fuse_weight(
                value, levels)
        elif name.startswith('batch_norm.'):
            out['linear_fuse.bn.' + name[len('batch_norm.'):]] = value
        elif name.startswith('classifier.'):
            out['linear_pred.' + name[len('classifier.'):]] = value
        else:
            raise KeyError(key)
    return out
