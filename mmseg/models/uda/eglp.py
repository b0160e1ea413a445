"""EGLP: prompt-image guided self-training with a Night-Focused Network."""
import copy
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from torch import nn

from mmseg.registry import MODELS
from .dacs import DACS, LossDict
from .parts.context import PseudoLabels, UDAStepContext
from .parts.eglp.dms import DynamicMixing
from .parts.eglp.prompt_policy import LEGACY_DMS_KEYS, PromptPolicy
from .parts.teacher import EMATeacher
from .parts.eglp.teacher_fusion import TeacherFusion


def _merged(base: dict, override: Optional[dict]) -> dict:
    """``base`` with ``override``'s keys replaced recursively."""
    out = copy.deepcopy(dict(base))
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _split_prompt_policy(dms: dict,
                         prompt_policy: Optional[dict]) -> Tuple[dict, dict]:
    """``(dms, prompt_policy)`` configs, the prompt keys older configs gave
    in ``dms`` moved to the policy (named in one log line)."""
    dms = dict(dms)
    policy = dict(prompt_policy or {})
    policy.setdefault('type', 'PromptPolicy')
    moved = [key for key in LEGACY_DMS_KEYS if key in dms]
    for key in moved:
        if key in policy:
            raise ValueError(f'uda.dms.{key} and uda.prompt_policy.{key} are '
                             f'both set: keep uda.prompt_policy.{key}')
        policy[key] = dms.pop(key)
    if moved:
        print_log(f'uda.dms: {", ".join(moved)} belong to uda.prompt_policy '
                  'now; moved there', logger='current')
    return dms, policy


@MODELS.register_module()
class EGLP(DACS):
    """DACS/HRDA plus a Night-Focused Network guided by labelled prompts.

    One step (PIG's released code, qiurui4shu/PIG, which EGLP's release
    copies), on top of :class:`DACS`::

        update teachers: UDA teacher and NFNet teacher (EMA)
        backward(source loss + FD)
        backward(NFNet supervised loss on the prompt images)      prompt
        pseudo = UDA teacher labels; ctx.nfnet_logits = NFNet teacher's
        pseudo = dms.fuse(ctx, pseudo, nfnet_logits)   (DMS/FIS: the K
                 least day-night-similar classes -> NFNet)
        mixed = ClassMix + [RCM pastes] + strong aug; backward(student loss)
        backward(extra losses: MIC, ...)
        x_pm = prompt mixture (prompt part + target part, fused labels),
               strong aug with the step's draws       prompt_policy
        backward(NFNet loss on x_pm, block-masked when AMS says so)
        optimiser step (student and NFNet)

    Args:
        dms: the pseudo-label fusion (``type='DMS'``, ``mode='hard_pig'`` =
            released FIS behaviour, ``'soft'`` = EGLP's dynamic mixing).
        prompt_policy: how the NFNet trains on the prompts
            (:class:`PromptPolicy`: PMS split, AMS, prompt-loss weight);
            ``mode`` defaults to ``dms.mode``. Older configs gave its keys
            (``split_ratio_range``, ``mask_prob``, ``prompt_loss_decay``,
            ``prompt_loss_final``) in ``dms``: they are moved here.
        nfnet_model: overrides of the model config for NFNet (``None``: the
            same network as the student, as released; e.g.
            ``dict(backbone=dict(type='mit_b3'))`` for a cheaper NFNet).
        prompt_mixing: train NFNet on the prompt mixture (PMS/AMS); False
            trains it on the prompt images only.
        nf_alpha: EMA rate of the NFNet teacher (``None``: ``alpha``).
        test_model: besides ``'student'`` (released behaviour) and
            ``'teacher'``: ``'nfnet'``, ``'nfnet_teacher'``, or ``'fusion'``
            (the DMS/FIS fusion of both teachers with the EMA class ranks,
            :class:`TeacherFusion`; needs ``dms.similarity.ema``).
    """

    TEST_MODELS = DACS.TEST_MODELS + ('nfnet', 'nfnet_teacher', 'fusion')

    def __init__(self,
                 model: dict,
                 max_iters: int,
                 dms: dict,
                 prompt_policy: Optional[dict] = None,
                 nfnet_model: Optional[dict] = None,
                 prompt_mixing: bool = True,
                 nf_alpha: Optional[float] = None,
                 **dacs_kwargs: Any) -> None:
        super().__init__(model=model, max_iters=max_iters, **dacs_kwargs)
        dms, prompt_policy = _split_prompt_policy(dms, prompt_policy)
        self.dms = MODELS.build(dms)
        if not isinstance(self.dms, DynamicMixing):
            raise TypeError('uda.dms must build a DMS component')
        prompt_policy.setdefault('mode', self.dms.mode)
        self.prompt_policy = MODELS.build(prompt_policy)
        if not isinstance(self.prompt_policy, PromptPolicy):
            raise TypeError('uda.prompt_policy must build a PromptPolicy')
        self.dms.share_labeler(self.pseudo_labeler)
        if self.test_model == 'fusion' and self.dms.similarity.ema is None:
            raise ValueError("uda.test_model='fusion' ranks the classes by "
                             'the EMA similarity: set uda.dms.similarity.ema '
                             '(e.g. 0.99)')
        self.nfnet = MODELS.build(_merged(model, nfnet_model))
        alpha = self.teacher.alpha if nf_alpha is None else nf_alpha
        self.nf_teacher = EMATeacher(self.nfnet, alpha,
                                     self.teacher.average_buffers,
                                     self.teacher.bn_mode)
        self.prompt_mixing = prompt_mixing

    def init_weights(self) -> None:
        super().init_weights()
        self.nfnet.init_weights()
        self.nf_teacher.update(self.nfnet, 0)

    def buffered_networks(self) -> List[nn.Module]:
        return super().buffered_networks() + [self.nfnet,
                                              self.nf_teacher.model]

    def deployed_model(self) -> Callable[..., Any]:
        if self.test_model == 'nfnet':
            return self.nfnet
        if self.test_model == 'nfnet_teacher':
            return self.nf_teacher.model
        if self.test_model == 'fusion':
            return TeacherFusion(self.teacher.model, self.nf_teacher.model,
                                 self.dms.deploy_labels)
        return super().deployed_model()

    # ------------------------------------------------------------ stages
    def update_teachers(self, ctx: UDAStepContext) -> None:
        super().update_teachers(ctx)
        self.nf_teacher.update(self.nfnet, ctx.iteration)

    def source_stage(self, ctx: UDAStepContext,
                     optim_wrapper: OptimWrapper) -> LossDict:
        log = super().source_stage(ctx, optim_wrapper)
        log.update(self.prompt_stage(ctx, optim_wrapper))
        return log

    def prompt_stage(self, ctx: UDAStepContext,
                     optim_wrapper: OptimWrapper) -> LossDict:
        """Supervised NFNet loss on the labelled prompt images."""
        prompt = self._require_prompt(ctx)
        with optim_wrapper.optim_context(self):
            losses = self.nfnet.forward_train(prompt['img'],
                                              prompt['img_metas'],
                                              prompt['gt_semantic_seg'])
        weight = self.prompt_policy.prompt_loss_weight(ctx.iteration,
                                                       self.max_iters)
        return self.backward(optim_wrapper, self._scaled(losses, weight),
                             'nf.prompt')

    @torch.no_grad()
    def pseudo_labels(self, ctx: UDAStepContext) -> PseudoLabels:
        """UDA teacher labels fused with the NFNet teacher's (DMS/FIS); the
        NFNet logits are kept in ``ctx.nfnet_logits``."""
        pseudo = super().pseudo_labels(ctx)
        ctx.nfnet_logits = self.nf_teacher.predict_logits(
            ctx.target['img'], ctx.target['img_metas'])
        return self.dms.fuse(ctx, pseudo, ctx.nfnet_logits)

    def extra_stage(self, ctx: UDAStepContext,
                    optim_wrapper: OptimWrapper) -> LossDict:
        log = super().extra_stage(ctx, optim_wrapper)
        if self.prompt_mixing:
            log.update(self.prompt_mixture_stage(ctx, optim_wrapper))
        return log

    def prompt_mixture_stage(self, ctx: UDAStepContext,
                             optim_wrapper: OptimWrapper) -> LossDict:
        """PMS + AMS: NFNet on prompt/target halves, masked on AMS steps."""
        prompt = self._require_prompt(ctx)
        policy = self.prompt_policy
        img, label, _ = policy.prompt_mixture(
            prompt['img'], prompt['gt_semantic_seg'], ctx.target['img'],
            ctx.pseudo.label)
        # the iteration's jitter/blur decisions, sigmas drawn per image (PIG)
        img = self.strong_aug(img, ctx.img_norm_cfg, ctx.strong_aug)
        if policy.should_mask(ctx.iteration):
            img = policy.mask_image(img)
        ctx.extras.setdefault('debug', {})['prompt_mix_img'] = img
        with optim_wrapper.optim_context(self):
            losses = self.nfnet.forward_train(img, ctx.target['img_metas'],
                                              label)
        return self.backward(optim_wrapper, losses, 'nf.mix')

    # ----------------------------------------------------------- helpers
    @staticmethod
    def _scaled(losses: LossDict, weight: float) -> LossDict:
        if weight == 1.0:
            return losses
        return {k: v * weight if 'loss' in k else v for k, v in losses.items()}

    @staticmethod
    def _require_prompt(ctx: UDAStepContext) -> Dict[str, Any]:
        if ctx.prompt is None:
            raise KeyError('EGLP needs prompt images: set data.train.prompt '
                           '(a PromptDataset) in the config')
        return ctx.prompt
