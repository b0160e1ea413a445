"""DSRNSS long-tailed memory bank: re-paste rare source objects onto mixes.

Every iteration the current source batch, masked to the rare classes, is
stored as (image, mask, label) at the full crop size and the same position.
The bank is a FIFO of ``capacity`` batches (3 in DSRNSS, the current batch
included). Every ``paste_interval``-th iteration (``iteration % 5 == 0``)
every stored batch is pasted, oldest first, onto the mixed batch: label <-
bank label and image <- bank pixels where the bank mask is set.

Reference quirks, kept by default and switchable:

- ``paste_after_aug=True``: the paste happens after the strong augmentation,
  so the pasted objects are not colour-jittered or blurred (False pastes
  before it);
- ``reset_weight=False``: the pseudo-label weight of pasted pixels is kept
  (True sets it to 1, as for source pixels).

The reference needs identical batch and crop sizes; here a stored batch
whose shape differs from the mixed batch is skipped with a logged warning,
and a source batch of another shape than the stored ones empties the bank
(also with a warning) before it is stored.

Across ranks (``mmseg.utils.dist``) the bank holds the global batch: every
rank stores the rare-class pixels of all ranks' source batches, concatenated
in rank order, and pastes onto its own mixed batch the rows of each stored
batch that are its own (its offset in the global batch). That is what one
process with the global batch does, and the bank is the same on every rank;
memory and traffic grow with the number of ranks.

The bank is saved in the state dict (``get_extra_state``) as plain tensors,
so a checkpoint loads with ``torch.load(weights_only=True)``.
"""
import logging
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.logging import print_log

from mmseg.models.uda.parts.context import (MixAugmenter, MixedBatch,
                                            UDAStepContext)
from mmseg.registry import MODELS
from mmseg.utils.dist import all_gather_cat, all_gather_list, rank

DSRNSS_BANK_CLASSES = (12, 14, 15, 17, 18)  # rider truck bus motorcycle bike


@MODELS.register_module()
class LongTailMemoryBank(MixAugmenter):
    """FIFO bank of rare-class source pixels pasted onto the mixed batch.

    Args:
        classes: the rare classes that are stored.
        capacity: number of stored batches (current batch included).
        paste_interval: paste when ``iteration % paste_interval == 0``.
        paste_after_aug: stage of the paste (see module docstring).
        reset_weight: weight 1 on pasted pixels instead of keeping it.
    """

    def __init__(self,
                 classes: Sequence[int] = DSRNSS_BANK_CLASSES,
                 capacity: int = 3,
                 paste_interval: int = 5,
                 paste_after_aug: bool = True,
                 reset_weight: bool = False) -> None:
        super().__init__()
        if capacity < 1 or paste_interval < 1:
            raise ValueError('longtail_memory.py: capacity and paste_interval '
                             f'must be >= 1, got {capacity}/{paste_interval}')
        self.classes = tuple(int(c) for c in classes)
        self.capacity = int(capacity)
        self.paste_interval = int(paste_interval)
        self.stage = ('after_strong_aug'
                      if paste_after_aug else 'before_strong_aug')
        self.reset_weight = reset_weight
        self.images: List[torch.Tensor] = []  # [B, 3, H, W] masked images
        self.masks: List[torch.Tensor] = []  # [B, 1, H, W] bool
        self.labels: List[torch.Tensor] = []  # [B, 1, H, W] uint8

    def __len__(self) -> int:
        return len(self.masks)

    @torch.no_grad()
    def store(self, img: torch.Tensor, label: torch.Tensor) -> slice:
        """Store the rare-class pixels of every rank's source batch (FIFO).

        Returns the rows of a stored batch that are this rank's samples.
        """
        if label.dim() == 3:
            label = label.unsqueeze(1)
        rare = torch.tensor(self.classes, device=label.device)
        mask = torch.isin(label, rare)
        sizes = [len(part) for part in all_gather_list(mask[:, 0, 0, 0])]
        offset = sum(sizes[:rank()])
        rows = slice(offset, offset + sizes[rank()])
        masked_img = all_gather_cat((img * mask).detach().clone())
        masked_label = all_gather_cat((label * mask).to(torch.uint8))
        mask = all_gather_cat(mask)
        if self.masks and self.masks[0].shape != mask.shape:
            print_log(
                'LongTailMemoryBank: source batch shape '
                f'{tuple(mask.shape)} differs from the stored '
                f'{tuple(self.masks[0].shape)}; the bank is emptied',
                logger='current',
                level=logging.WARNING)
            self.images, self.masks, self.labels = [], [], []
        self.images.append(masked_img)
        self.masks.append(mask)
        self.labels.append(masked_label)
        excess = len(self.masks) - self.capacity
        if excess > 0:
            del self.images[:excess], self.masks[:excess], self.labels[:excess]
        return rows

    @torch.no_grad()
    def paste(self,
              mixed: MixedBatch,
              rows: Optional[slice] = None) -> MixedBatch:
        """Paste every stored batch (its ``rows``: this rank's samples; all
        by default) onto ``mixed``, oldest first."""
        img, label = mixed.img, mixed.label
        weight = mixed.weight
        rows = rows or slice(None)
        for bank_img, mask, bank_label in zip(self.images, self.masks,
                                              self.labels):
            bank_img, mask, bank_label = (bank_img[rows], mask[rows],
                                          bank_label[rows])
            if mask.shape[0] != img.shape[0] or \
                    mask.shape[-2:] != img.shape[-2:]:
                print_log(
                    'LongTailMemoryBank: stored batch '
                    f'{tuple(mask.shape)} does not fit the mixed batch '
                    f'{tuple(img.shape)}; it is not pasted',
                    logger='current',
                    level=logging.WARNING)
                continue
            mask = mask.to(img.device, img.dtype)
            img = mask * bank_img.to(img.device, img.dtype) + (1 - mask) * img
            keep = mask.to(torch.bool)
            label = torch.where(keep, bank_label.to(label.device, label.dtype),
                                label)
            if self.reset_weight:
                weight = torch.where(keep[:, 0], torch.ones_like(weight),
                                     weight)
        return MixedBatch(img=img, label=label, weight=weight, mask=mixed.mask)

    def augment(self, ctx: UDAStepContext, mixed: MixedBatch) -> MixedBatch:
        rows = self.store(ctx.source['img'], ctx.source['gt_semantic_seg'])
        if ctx.iteration % self.paste_interval != 0:
            return mixed
        return self.paste(mixed, rows)

    def get_extra_state(self) -> Dict[str, Any]:
        if not self.masks:
            return {'size': torch.tensor(0)}
        return {
            'size': torch.tensor(len(self.masks)),
            'images': torch.stack(self.images).cpu(),
            'masks': torch.stack(self.masks).to(torch.uint8).cpu(),
            'labels': torch.stack(self.labels).to(torch.uint8).cpu(),
        }

    def set_extra_state(self, state: Dict[str, Any]) -> None:
        if not isinstance(state, dict) or 'size' not in state:
            raise ValueError('LongTailMemoryBank: bad extra state in the '
                             'checkpoint (expected a dict with "size")')
        size = int(state['size'])
        if size == 0:
            self.images, self.masks, self.labels = [], [], []
            return
        self.images = list(state['images'].float().unbind(0))
        self.masks = list(state['masks'].bool().unbind(0))
        self.labels = list(state['labels'].to(torch.uint8).unbind(0))
