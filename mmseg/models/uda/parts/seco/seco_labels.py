"""Second-stage SeCo training: offline SeCo labels override pseudo-labels.

Where the SeCo label of a target pixel is defined (!= 255) it replaces the
teacher's online pseudo-label and the pixel weight becomes 1; elsewhere the
online pseudo-label and its weight stay.

Getting the label aligned with the (cropped, flipped) target image:

- preferred: the target pipeline loads the SeCo PNG as an extra seg field
  ``seco_label`` (appended to ``results['seg_fields']`` so resize, crop and
  flip treat it like the GT) and ``PackSegInputs`` passes it on; the step
  then finds it in ``ctx.target['seco_label']`` (``[B, 1, H, W]``);
- fallback (``label_dir`` set): ``<label_dir>/<base name of
  img_metas['ori_filename']>.png`` is read and flipped when
  ``img_metas['flip']``; it must then have the size of the training image,
  which holds only without random crops, otherwise a ``ValueError`` says to
  use the seg-field route.
"""
import os.path as osp
from typing import List, Optional

import numpy as np
import torch

from mmseg.models.uda.parts.context import (PseudoLabelRefiner, PseudoLabels,
                                            UDAStepContext)
from mmseg.registry import MODELS
from mmseg.seco.relabel import label_name, read_label

IGNORE_INDEX = 255


@MODELS.register_module()
class SeCoLabels(PseudoLabelRefiner):
    """Replace online pseudo-labels by SeCo labels where those are defined.

    Args:
        label_dir: folder of SeCo label PNGs (fallback route, see module
            docstring); None = only ``ctx.target['seco_label']``.
        key: the target sample key of the pipeline route.
    """

    def __init__(self, label_dir: Optional[str] = None,
                 key: str = 'seco_label') -> None:
        super().__init__()
        self.label_dir = label_dir
        self.key = key

    def _read(self, meta: dict, shape: torch.Size) -> torch.Tensor:
        path = osp.join(self.label_dir, label_name(meta['ori_filename']))
        label = read_label(path)
        if meta.get('flip'):
            if meta.get('flip_direction', 'horizontal') == 'vertical':
                label = label[::-1]
            else:
                label = label[:, ::-1]
        if tuple(label.shape) != tuple(shape):
            raise ValueError(
                f'seco_labels.py: {path} has size {label.shape} but the '
                f'training image is {tuple(shape)} (random crop?); load the '
                f"label in the target pipeline as the seg field '{self.key}'")
        return torch.from_numpy(np.ascontiguousarray(label).astype(np.int64))

    def seco_label(self, ctx: UDAStepContext,
                   pseudo: PseudoLabels) -> torch.Tensor:
        """SeCo labels ``[B, H, W]`` aligned with ``pseudo.label``."""
        label = ctx.target.get(self.key)
        if label is not None:
            return label.squeeze(1) if label.dim() == 4 else label
        if self.label_dir is None:
            raise ValueError(f"seco_labels.py: ctx.target has no '{self.key}' "
                             'and no label_dir is configured')
        metas: List[dict] = ctx.target['img_metas']
        shape = pseudo.label.shape[-2:]
        return torch.stack([self._read(m, shape) for m in metas])

    @torch.no_grad()
    def refine(self, ctx: UDAStepContext,
               pseudo: PseudoLabels) -> PseudoLabels:
        seco = self.seco_label(ctx, pseudo).to(pseudo.label.device)
        if seco.shape != pseudo.label.shape:
            raise ValueError(f'seco_labels.py: SeCo labels {tuple(seco.shape)}'
                             f' do not match pseudo-labels '
                             f'{tuple(pseudo.label.shape)}')
        defined = seco != IGNORE_INDEX
        label = torch.where(defined, seco.to(pseudo.label.dtype),
                            pseudo.label)
        weight = torch.where(defined, torch.ones_like(pseudo.weight),
                             pseudo.weight)
        return PseudoLabels(label=label, weight=weight, logits=pseudo.logits)
