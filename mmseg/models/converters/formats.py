"""Which published layout a state dict has, and its conversion to ours.

Known formats (``KNOWN_FORMATS``):
- ``hf-segformer-semseg``: transformers ``SegformerForSemanticSegmentation``
  -> a segmentor state dict (``backbone.*`` + ``decode_head.*``);
- ``hf-mit-encoder``: transformers ``SegformerModel`` /
  ``SegformerForImageClassification`` (``nvidia/mit-b0..b5``) -> MiT
  backbone weights for ``model.pretrained``;
- ``mmseg1x-mit``: an mmseg 1.x MiT backbone or SegFormer segmentor
  (``layers.*`` / ``backbone.layers.*``) -> MiT backbone weights.
"""
from dataclasses import dataclass, field
from typing import Dict, List

import torch

from mmseg.models.converters import hf_segformer, mmseg1x_mit
from mmseg.utils.checkpoint_io import CheckpointLoadError

Tensors = Dict[str, torch.Tensor]

HF_SEMSEG = 'hf-segformer-semseg'
HF_ENCODER = 'hf-mit-encoder'
MMSEG1X = 'mmseg1x-mit'
KNOWN_FORMATS = {
    HF_SEMSEG: 'HuggingFace SegformerForSemanticSegmentation (keys '
               'segformer.encoder.* and decode_head.linear_c.*)',
    HF_ENCODER: 'HuggingFace SegformerModel / SegformerForImageClassification '
                '(keys [segformer.]encoder.patch_embeddings.*)',
    MMSEG1X: 'mmseg 1.x MiT / SegFormer (keys [backbone.]layers.*)',
}
OURS_MARKERS = ('patch_embed1.proj.weight', 'backbone.patch_embed1.proj.weight')


@dataclass
class WeightFormat:
    """The result of a conversion.

    Attributes:
        name: one of ``KNOWN_FORMATS``.
        kind: ``'segmentor'`` (keys ``backbone.*``/``decode_head.*``) or
            ``'backbone'`` (MiT keys, for ``model.pretrained``).
        state_dict: the converted tensors.
        converted: how many input tensors went into ``state_dict``.
        dropped: input keys left out (ImageNet classifier, mmseg 1.x head).
        notes: sentences for the user.
    """
    name: str
    kind: str
    state_dict: Tensors
    converted: int
    dropped: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)


def _unknown(filename: str, state: Tensors, why: str = '') -> CheckpointLoadError:
    shown = ', '.join(sorted(state)[:3]) or 'no tensors'
    expected = '; '.join(KNOWN_FORMATS.values())
    return CheckpointLoadError(
        f'{filename} is none of the known weight formats{why} (its keys '
        f'start {shown}); expected one of: {expected}')


def detect_format(state: Tensors, filename: str = 'weights') -> str:
    """The format name of ``state`` (see ``KNOWN_FORMATS``).

    Raises:
        CheckpointLoadError: naming the file and the expected formats, for a
            file in this project's own layout or an unknown one.
    """
    if any(k in state for k in OURS_MARKERS):
        raise CheckpointLoadError(
            f'{filename} already has this project\'s MiT keys '
            '(patch_embed1.proj.weight); use it as it is')
    if mmseg1x_mit.is_mmseg1x_mit(state):
        return MMSEG1X
    published = hf_segformer.published_names(state)
    if hf_segformer.is_hf_segmentation(published):
        return HF_SEMSEG
    if hf_segformer.is_hf_encoder(published):
        return HF_ENCODER
    raise _unknown(filename, state)


def convert_state_dict(state: Tensors,
                       filename: str = 'weights') -> WeightFormat:
    """Detect the format of ``state`` and convert it to our keys.

    Raises:
        CheckpointLoadError: unknown format, or a key the format's converter
            does not know (named).
    """
    name = detect_format(state, filename)
    try:
        if name == MMSEG1X:
            inside, dropped = mmseg1x_mit.backbone_tensors(state)
            out = mmseg1x_mit.convert(inside)
            notes = ['mmseg 1.x SegformerHead (a conv+BN+ReLU per level) '
                     'differs from SegFormer\'s head: its '
                     f'{len(dropped)} tensors were left out; the output is '
                     'backbone weights'] if dropped else []
            return WeightFormat(name, 'backbone', out, len(inside), dropped,
                                notes)
        published = hf_segformer.published_names(state)
        encoder, dropped = hf_segformer.convert_encoder(published)
        n_encoder = sum(1 for k in published if k.startswith('encoder.'))
        if name == HF_ENCODER:
            return WeightFormat(name, 'backbone', encoder, n_encoder, dropped)
        head = hf_segformer.convert_head(published)
        out = {'backbone.' + k: v for k, v in encoder.items()}
        out.update({'decode_head.' + k: v for k, v in head.items()})
        n_head = sum(1 for k in published if k.startswith('decode_head.'))
        return WeightFormat(name, 'segmentor', out, n_encoder + n_head,
                            dropped)
    except KeyError as err:
        raise _unknown(filename, state,
                       f' (unexpected key {err.args[0]} for '
                       f'{KNOWN_FORMATS[name]})') from err
