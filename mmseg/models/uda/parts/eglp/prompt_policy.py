"""How EGLP trains its Night-Focused Network on the prompt images.

Three choices, each set by the fusion mode unless given (so one switch,
``uda.dms.mode``, selects PIG or EGLP; ``uda.prompt_policy`` overrides):

=========================  ==============  ====================
                           ``hard_pig``    ``soft``
=========================  ==============  ====================
PMS split                  0.5             U(0.3, 0.7)
AMS                        odd iterations  with probability 0.5
prompt-loss weight         1.0             1.0 (-> 0.5 if decay)
=========================  ==============  ====================

PMS (prompt mixture) and AMS (alternate mask) are in :mod:`prompt_mixing`;
the ``hard_pig`` column is PIG's released code (qiurui4shu/PIG), the
``soft`` column EGLP's dynamic mixing of pseudo-labels for few prompts.
"""
from typing import Optional, Tuple

import torch

from mmseg.models.uda.parts.eglp.prompt_mixing import (AlternateMask,
                                                       prompt_mixture)
from mmseg.registry import MODELS

MODES = ('hard_pig', 'soft')
# keys of ``uda.dms`` that older configs used for this policy
LEGACY_DMS_KEYS = ('split_ratio_range', 'mask_prob', 'prompt_loss_decay',
                   'prompt_loss_final')


@MODELS.register_module()
class PromptPolicy:
    """Prompt mixture split, alternate masking and prompt-loss weight.

    Call graph (from the EGLP step): ``prompt_loss_weight()`` for the
    supervised prompt loss; ``prompt_mixture() -> should_mask() ->
    mask_image()`` for the NFNet's mixed prompt/target batch. Holds no
    state (nothing in the checkpoint).

    Args:
        mode: ``'hard_pig'`` or ``'soft'``, the defaults of the table.
        split_ratio_range: PMS split, a number or ``(low, high)`` drawn per
            sample (``None``: the mode's).
        mask_prob: AMS with this probability (``None``: the mode's;
            ``hard_pig`` masks odd iterations).
        prompt_loss_decay: decay the prompt-loss weight linearly to
            ``prompt_loss_final`` over training.
        prompt_loss_final: the weight at the last iteration.
    """

    def __init__(self,
                 mode: str = 'hard_pig',
                 split_ratio_range: Optional[Tuple[float, float]] = None,
                 mask_prob: Optional[float] = None,
                 prompt_loss_decay: bool = False,
                 prompt_loss_final: float = 0.5) -> None:
        if mode not in MODES:
            raise ValueError(f'prompt_policy.py: mode must be one of '
                             f'{MODES}, got {mode!r}')
        soft = mode == 'soft'
        self.mode = mode
        self.split = split_ratio_range or ((0.3, 0.7) if soft else 0.5)
        if mask_prob is None:
            mask_prob = 0.5 if soft else None
        self.ams = (AlternateMask('random', mask_prob)
                    if mask_prob is not None else AlternateMask('parity'))
        self.prompt_loss_decay = prompt_loss_decay
        self.prompt_loss_final = prompt_loss_final

    def prompt_mixture(self,
                       prompt_img: torch.Tensor,
                       prompt_label: torch.Tensor,
                       tgt_img: torch.Tensor,
                       fused_label: torch.Tensor,
                       generator: Optional[torch.Generator] = None):
        """PMS with this policy's split (see :func:`prompt_mixture`)."""
        return prompt_mixture(prompt_img, prompt_label, tgt_img, fused_label,
                              generator, self.split)

    def should_mask(self,
                    iteration: int,
                    generator: Optional[torch.Generator] = None) -> bool:
        """AMS: train the NFNet on the block-masked PMS image this step?"""
        return self.ams.should_mask(iteration, generator)

    def mask_image(
            self,
            img: torch.Tensor,
            generator: Optional[torch.Generator] = None) -> torch.Tensor:
        return self.ams(img, generator)

    def prompt_loss_weight(self, iteration: int, max_iters: int) -> float:
        """1.0, or linear decay to ``prompt_loss_final`` over training."""
        if not self.prompt_loss_decay or max_iters <= 0:
            return 1.0
        progress = min(1.0, iteration / max_iters)
        return 1.0 + (self.prompt_loss_final - 1.0) * progress
