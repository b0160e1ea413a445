"""Pseudo-labels and confidence weights from teacher logits."""
from typing import Dict, Optional

import torch

from mmseg.models.uda.parts.context import PseudoLabels

WEIGHT_MODES = ('batch', 'image', 'pixel')


class PseudoLabeler:
    """Turns teacher logits into hard labels and per-pixel weights.

    ``p = softmax(logits)``, ``label = argmax p``, and with
    ``c = 1[max p >= threshold]`` the weight is

    - ``'batch'`` (reference): the fraction of confident pixels of the whole
      batch, one value broadcast to ``[B, H, W]``;
    - ``'image'``: the fraction of confident pixels of each image;
    - ``'pixel'``: ``c`` itself.

    ``threshold=None`` gives weight 1 everywhere. Everything stays on the
    logits' device (no host synchronisation).
    """

    def __init__(self,
                 threshold: Optional[float] = 0.968,
                 weight_mode: str = 'batch') -> None:
        if weight_mode not in WEIGHT_MODES:
            raise ValueError(f'pseudo_label.py: weight_mode must be one of '
                             f'{WEIGHT_MODES}, got {weight_mode!r}')
        self.threshold = threshold
        self.weight_mode = weight_mode

    @torch.no_grad()
    def __call__(self, logits: torch.Tensor) -> PseudoLabels:
        if logits.dim() != 4:
            raise ValueError(f'pseudo_label.py: logits must be [B, C, H, W], '
                             f'got shape {tuple(logits.shape)}')
        prob = torch.softmax(logits.detach().float(), dim=1)
        max_prob, label = torch.max(prob, dim=1)
        return PseudoLabels(label=label,
                            weight=self.weight(max_prob),
                            logits=logits,
                            confident_fraction=self.confident_fraction(
                                max_prob))

    def confident_fraction(self, max_prob: torch.Tensor) -> torch.Tensor:
        """Share of pixels with ``max p >= threshold`` (scalar tensor; 1
        without a threshold)."""
        if self.threshold is None:
            return torch.ones((), device=max_prob.device)
        return (max_prob >= self.threshold).float().mean()

    def weight(self, max_prob: torch.Tensor) -> torch.Tensor:
        """Weight map ``[B, H, W]`` from the per-pixel maximum probability."""
        ones = torch.ones_like(max_prob, dtype=torch.float32)
        if self.threshold is None:
            return ones
        confident = max_prob >= self.threshold
        if self.weight_mode == 'pixel':
            return confident.float()
        if self.weight_mode == 'image':
            per_image = confident.flatten(1).sum(1) / confident[0].numel()
            return per_image.view(-1, 1, 1) * ones
        return (confident.sum() / confident.numel()) * ones


def pseudo_label_log(pseudo: PseudoLabels) -> Dict[str, torch.Tensor]:
    """Log entries of the pseudo-labels the target loss used.

    ``pseudo.confident_fraction``: share of target pixels whose teacher
    confidence reaches the threshold (as labelled, before refiners, which
    keep the field); ``pseudo.weight``: mean pixel weight of the target loss
    (after refiners and the valid-region mask). Both detached scalars in
    [0, 1].
    """
    log = {'pseudo.weight': pseudo.weight.detach().float().mean()}
    if pseudo.confident_fraction is not None:
        log['pseudo.confident_fraction'] = \
            pseudo.confident_fraction.detach()
    return log


def restrict_to_valid_region(weight: torch.Tensor,
                             valid_pseudo_mask: Optional[torch.Tensor] = None,
                             ignore_top: int = 0,
                             ignore_bottom: int = 0) -> torch.Tensor:
    """Zero the pseudo-label weight outside the trusted image region.

    v1 (DAFormer): the first ``ignore_top`` and last ``ignore_bottom`` rows
    of the crop. v2 (HRDA): outside ``valid_pseudo_mask`` (``[B, 1, H, W]``
    or ``[B, H, W]``, 1 = valid), built by the data pipeline. The two are
    exclusive, as in the reference. Returns a new tensor.
    """
    if ignore_top < 0 or ignore_bottom < 0:
        raise ValueError('pseudo_label.py: ignore_top/ignore_bottom must be '
                         f'>= 0, got {ignore_top}/{ignore_bottom}')
    rows_given = ignore_top > 0 or ignore_bottom > 0
    if rows_given and valid_pseudo_mask is not None:
        raise ValueError('pseudo_label.py: pseudo_weight_ignore_top/bottom '
                         'and valid_pseudo_mask are exclusive')
    weight = weight.clone()
    if ignore_top > 0:
        weight[:, :ignore_top, :] = 0
    if ignore_bottom > 0:
        weight[:, -ignore_bottom:, :] = 0
    if valid_pseudo_mask is not None:
        mask = valid_pseudo_mask
        if mask.dim() == 4:
            mask = mask.squeeze(1)
        if mask.shape != weight.shape:
            raise ValueError(
                f'pseudo_label.py: valid_pseudo_mask shape '
                f'{tuple(valid_pseudo_mask.shape)} does not match weight '
                f'{tuple(weight.shape)}')
        weight = weight * mask.to(weight.dtype)
    return weight
