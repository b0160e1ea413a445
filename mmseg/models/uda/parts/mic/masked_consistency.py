"""MIC: masked image consistency loss on block-masked images."""
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch

from mmseg.models.uda.parts.context import ExtraLoss, UDAStepContext
from mmseg.models.uda.parts.mic.masking import build_mask_generator
from mmseg.models.uda.parts.strong_aug import StrongAugmentation
from mmseg.models.utils.precision import full_precision
from mmseg.registry import MODELS

MASK_MODES = ('separate', 'separateaug', 'separatesrc', 'separatesrcaug',
              'separatetrg', 'separatetrgaug')

MaskedInputs = Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]


@MODELS.register_module(name='MIC')
class MaskedImageConsistency(ExtraLoss):
    """Student loss on block-masked images against (pseudo-)labels.

    Inputs by ``mask_mode`` (``*aug`` adds colour jitter and blur, the blur
    draw always random, before masking):

    - ``separate``: the first ``B // 2`` source and the first ``B - B // 2``
      target samples, labels ``[y_S, y_hat]``, weights ``[1, w_T]``; with
      B = 2 this is the reference ``[x_S[0], x_T[0]]``;
    - ``separatesrc``: the source batch with its labels, no weight;
    - ``separatetrg``: the target batch with pseudo-labels and weights.

    Pseudo-labels and weights are the unmixed ones of ``ctx.pseudo``. The
    losses come from ``ctx.student.forward_train`` and are logged by the step with the prefix
    ``masked.``. With ``mask_lambda != 1`` only ``decode.loss_seg`` is
    scaled (the reference; HRDA's ``decode.hr.loss_seg`` is not) unless
    ``scale_all_losses``. A separate MIC teacher (``mask_alpha`` or
    ``mask_pseudo_threshold`` other than ``'same'``) is not supported.

    Call graph: ``losses() -> select_inputs() -> [strong_aug()] ->
    mask_generator.mask_image() -> student.forward_train() -> _scale()``.
    """
    prefix = 'masked'

    def __init__(self,
                 mask_mode: str = 'separate',
                 mask_lambda: float = 1.0,
                 mask_generator: Optional[Mapping[str, Any]] = None,
                 color_jitter_strength: float = 0.2,
                 color_jitter_probability: float = 0.2,
                 mask_alpha: Any = 'same',
                 mask_pseudo_threshold: Any = 'same',
                 scale_all_losses: bool = False) -> None:
        super().__init__()
        if mask_mode not in MASK_MODES:
            raise ValueError(f'masked_consistency.py: mask_mode must be one '
                             f'of {MASK_MODES}, got {mask_mode!r}')
        if mask_alpha != 'same' or mask_pseudo_threshold != 'same':
            raise NotImplementedError(
                'masked_consistency.py: a separate MIC teacher (mask_alpha or '
                "mask_pseudo_threshold other than 'same') is not supported; "
                "use 'same' to share the DACS teacher's pseudo-labels")
        if mask_generator is None:
            mask_generator = dict(type='block',
                                  mask_ratio=0.7,
                                  mask_block_size=64)
        self.mask_mode = mask_mode
        self.mask_lambda = mask_lambda
        self.scale_all_losses = scale_all_losses
        self.mask_generator = build_mask_generator(mask_generator)
        self.strong_aug = StrongAugmentation(color_jitter_strength,
                                             color_jitter_probability,
                                             blur=True)

    def losses(
        self,
        ctx: UDAStepContext,
        generator: Optional[torch.Generator] = None
    ) -> List[Dict[str, torch.Tensor]]:
        img, label, weight = self.select_inputs(ctx)
        with torch.no_grad(), full_precision(img.device.type):
            if self.mask_mode.endswith('aug'):
                params = self.strong_aug.draw_params(generator)
                img = self.strong_aug(img.clone(), ctx.img_norm_cfg, params)
            img = self.mask_generator.mask_image(img, generator)
        ctx.extras.setdefault('debug', {})['masked_img'] = img
        losses = ctx.student.forward_train(img,
                                           ctx.source['img_metas'],
                                           label,
                                           seg_weight=weight)
        losses = self._scale(losses)
        return [losses]

    def select_inputs(self, ctx: UDAStepContext) -> MaskedInputs:
        """Images ``[N, 3, H, W]``, labels ``[N, 1, H, W]``, weights."""
        src_img = ctx.source['img']
        src_label = ctx.source['gt_semantic_seg']
        if self.mask_mode.startswith('separatesrc'):
            return src_img, src_label, None
        if ctx.pseudo is None:
            raise ValueError(f'masked_consistency.py: mask_mode '
                             f'{self.mask_mode!r} needs ctx.pseudo')
        tgt_img = ctx.target['img']
        pseudo_label = ctx.pseudo.label.unsqueeze(1)
        pseudo_weight = ctx.pseudo.weight
        if self.mask_mode.startswith('separatetrg'):
            return tgt_img, pseudo_label, pseudo_weight
        batch = src_img.shape[0]
        if batch < 2:
            raise ValueError(f"masked_consistency.py: mask_mode 'separate' "
                             f'needs a batch of >= 2, got {batch}')
        n_src, n_tgt = batch // 2, batch - batch // 2
        src_weight = torch.ones((n_src, ) + tuple(src_label.shape[-2:]),
                                dtype=pseudo_weight.dtype,
                                device=pseudo_weight.device)
        return (torch.cat([src_img[:n_src], tgt_img[:n_tgt]]),
                torch.cat([
                    src_label[:n_src], pseudo_label[:n_tgt].to(src_label.dtype)
                ]), torch.cat([src_weight, pseudo_weight[:n_tgt]]))

    def _scale(self, losses: Dict[str,
                                  torch.Tensor]) -> Dict[str, torch.Tensor]:
        if self.mask_lambda == 1:
            return losses
        losses = dict(losses)
        for key in losses:
            if key == 'decode.loss_seg' or \
                    (self.scale_all_losses and 'loss' in key):
                losses[key] = losses[key] * self.mask_lambda
        return losses
