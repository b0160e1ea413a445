"""EGLP: prompt-image guided self-training with a Night-Focused Network."""
import copy
from typing import Any, Callable, Dict, List, Optional

import torch
from mmengine.optim import OptimWrapper
from torch import nn

from mmseg.registry import MODELS
from .dacs import DACS, LossDict
from .parts.context import PseudoLabels, UDAStepContext
from .parts.eglp.dms import DynamicMixing
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


@MODELS.register_module()
class EGLP(DACS):
    """DACS/HRDA plus a Night-Focused Network guided by labelled prompts.

    One step (PIG/EGLP, methods spec §1.3), on top of :class:`DACS`::

        update teachers: UDA teacher and NFNet teacher (EMA)
        backward(source loss + FD)
        backward(NFNet supervised loss on the prompt images)      prompt
        pseudo = UDA teacher labels; NFNet teacher logits on the target
        pseudo = DMS/FIS fusion (K least day-night-similar classes -> NFNet)
        mixed = ClassMix + [RCM pastes] + strong aug; backward(student loss)
        backward(extra losses: MIC, ...)
        x_pm = prompt mixture (prompt half + target half, fused labels)
        backward(NFNet loss on x_pm, block-masked when AMS says so)
        optimiser step (student and NFNet)

    Args:
        dms: the fusion/prompt-policy component (``type='DMS'``,
            ``mode='hard_pig'`` = released FIS behaviour, ``'soft'`` = EGLP's
            dynamic mixing).
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
                 nfnet_model: Optional[dict] = None,
                 prompt_mixing: bool = True,
                 nf_alpha: Optional[float] = None,
                 **dacs_kwargs: Any) -> None:
        super().__init__(model=model, max_iters=max_iters, **dacs_kwargs)
        self.dms = MODELS.build(dms)
        if not isinstance(self.dms, DynamicMixing):
            raise TypeError('uda.dms must build a DMS component')
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
        weight = self.dms.prompt_loss_weight(ctx.iteration, self.max_iters)
        return self.backward(optim_wrapper, self._scaled(losses, weight),
                             'nf.prompt')

    @torch.no_grad()
    def pseudo_labels(self, ctx: UDAStepContext) -> PseudoLabels:
        pseudo = super().pseudo_labels(ctx)
        ctx.extras['nfnet_logits'] = self.nf_teacher.predict_logits(
            ctx.target['img'], ctx.target['img_metas'])
        return self.dms.refine(ctx, pseudo)

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
        img, label, _ = self.dms.prompt_mixture(
            prompt['img'], prompt['gt_semantic_seg'], ctx.target['img'],
            ctx.pseudo.label)
        img = self.strong_aug(img, ctx.img_norm_cfg,
                              ctx.extras['strong_aug_params'])
        if self.dms.should_mask(ctx.iteration):
            img = self.dms.mask_image(img)
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
