"""MiT/SegFormer hyper-parameters read back from converted tensors."""
import json
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import torch

from mmseg.models.backbones.mix_transformer import MIT_SHARED, MIT_VARIANTS

Tensors = Dict[str, torch.Tensor]
STAGES = 4


@dataclass
class MiTGeometry:
    """Per-stage hyper-parameters of a MiT encoder (4 entries each)."""
    embed_dims: Tuple[int, ...]
    depths: Tuple[int, ...]
    sr_ratios: Tuple[int, ...]
    mlp_ratios: Tuple[float, ...]
    num_heads: Tuple[int, ...]
    heads_assumed: bool

    def variant(self) -> Optional[str]:
        """``'mit_b0'``..``'mit_b5'`` when every hyper-parameter is that
        variant's, else None."""
        for name, table in MIT_VARIANTS.items():
            if (tuple(table['embed_dims']) == self.embed_dims
                    and tuple(table['depths']) == self.depths
                    and tuple(MIT_SHARED['sr_ratios']) == self.sr_ratios
                    and tuple(MIT_SHARED['mlp_ratios']) == self.mlp_ratios
                    and tuple(MIT_SHARED['num_heads']) == self.num_heads):
                return name
        return None

    def backbone_cfg(self, norm_eps: float) -> dict:
        """The ``model.backbone`` config of this encoder."""
        name = self.variant()
        if name is not None:
            return dict(type=name, style='pytorch', norm_eps=norm_eps)
        return dict(type='MixVisionTransformer',
                    embed_dims=list(self.embed_dims),
                    depths=list(self.depths),
                    num_heads=list(self.num_heads),
                    sr_ratios=list(self.sr_ratios),
                    mlp_ratios=list(self.mlp_ratios), norm_eps=norm_eps)


def read_hf_config(weights_file: str) -> Optional[dict]:
    """``config.json`` beside a HuggingFace weight file, or None."""
    path = osp.join(osp.dirname(osp.abspath(weights_file)), 'config.json')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def mit_geometry(backbone: Tensors,
                 hf_config: Optional[dict] = None) -> MiTGeometry:
    """Geometry of our MiT keys (no ``backbone.`` prefix).

    Embedding widths, depths, key/value reduction and MLP ratios come from
    the tensor shapes; the head counts from ``hf_config``
    (``num_attention_heads``) or, without one, MiT-B0..B5's ``(1, 2, 5, 8)``
    (``heads_assumed``: shapes do not tell them).
    """
    dims, depths, srs, mlps = [], [], [], []
    for i in range(1, STAGES + 1):
        dim = backbone[f'patch_embed{i}.proj.weight'].shape[0]
        blocks = {k.split('.')[1] for k in backbone
                  if k.startswith(f'block{i}.')}
        sr = backbone.get(f'block{i}.0.attn.sr.weight')
        hidden = backbone[f'block{i}.0.mlp.fc1.weight'].shape[0]
        dims.append(int(dim))
        depths.append(len(blocks))
        srs.append(int(sr.shape[-1]) if sr is not None else 1)
        mlps.append(hidden / dim if hidden % dim else hidden // dim)
    assumed = hf_config is None or 'num_attention_heads' not in hf_config
    heads = (MIT_SHARED['num_heads'] if assumed
             else hf_config['num_attention_heads'])
    return MiTGeometry(tuple(dims), tuple(depths), tuple(srs), tuple(mlps),
                       tuple(int(h) for h in heads), assumed)


def class_names(hf_config: Optional[dict]) -> Optional[List[str]]:
    """Class names of ``id2label`` in id order, or None."""
    if not hf_config or not hf_config.get('id2label'):
        return None
    table = hf_config['id2label']
    return [table[k] for k in sorted(table, key=int)]
