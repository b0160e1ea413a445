"""DACS self-training (DAFormer/HRDA/MIC) as one explicit training step."""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from torch import nn

from mmseg.models.segmentors.crop_box import scale_box
from mmseg.models.utils.precision import autocast_context
from mmseg.registry import MODELS
from mmseg.utils.dist import mean_buffers_
from .parts.context import (ExtraLoss, MixAugmenter, MixedBatch,
                            PseudoLabelRefiner, PseudoLabels, UDAStepContext)
from .parts.feature_distance import ImageNetFeatureDistance
from .parts.pseudo_label import (PseudoLabeler, pseudo_label_log,
                                 restrict_to_valid_region)
from .parts.strong_aug import StrongAugmentation
from .parts.teacher import EMATeacher

LossDict = Dict[str, torch.Tensor]


def _prefixed(losses: LossDict, prefix: str) -> LossDict:
    return {f'{prefix}.{k}' if prefix else k: v for k, v in losses.items()}


def _build_all(cfgs: Optional[Sequence[dict]], kind: type) -> nn.ModuleList:
    modules = nn.ModuleList()
    for cfg in cfgs or ():
        module = MODELS.build(cfg)
        if not isinstance(module, kind):
            raise TypeError(f'uda: {cfg.get("type")} is not a '
                            f'{kind.__name__}')
        modules.append(module)
    return modules


@MODELS.register_module()
class DACS(BaseModel):
    """Self-training UDA with an EMA teacher, ClassMix and strong augmentation.

    ``train_step`` reads as the algorithm::

        update teachers (EMA)
        backward(source loss [+ ImageNet feature distance])
        pseudo = teacher pseudo-labels (confidence weight, valid region)
        pseudo = refiners(pseudo)                        plug-ins
        mixed  = ClassMix(source, target, pseudo)
        mixed  = augmenters before strong aug -> strong aug -> augmenters after
        backward(mixed loss)
        backward(extra losses)                           MIC, FPA, EB, ...
        optimiser step
        sync buffers: running statistics averaged over the ranks

    Evaluation and inference use the network ``test_model`` names:
    ``'student'`` (the reference) or ``'teacher'`` (the EMA teacher); see
    :meth:`deployed_model`. The teacher and the ImageNet model are frozen
    (``requires_grad=False``) and never in the optimiser. The iteration
    counter is checkpointed (``get_extra_state``), so a resumed run
    does not restart the teacher.

    ``mask_*`` keys configure MIC (masked image consistency) as in the
    reference configs; it becomes one of the extra losses.

    Mixed precision (``--amp``): every network forward of the step runs
    under the optimiser wrapper's autocast: the student's and the plug-ins'
    inside ``optim_wrapper.optim_context``, the teachers' pseudo-labelling
    and the refiners (EGLP's NFNet teacher, similarity networks) inside
    :func:`autocast_context`. Softmax, confidence thresholds, losses and the
    EMA updates see fp32 tensors.
    """

    TEST_MODELS: Tuple[str, ...] = ('student', 'teacher')

    def __init__(self,
                 model: dict,
                 max_iters: int,
                 source_only: bool = False,
                 alpha: float = 0.99,
                 teacher_bn_mode: str = 'train',
                 teacher_average_buffers: bool = False,
                 pseudo_threshold: Optional[float] = 0.968,
                 pseudo_weight_mode: str = 'batch',
                 pseudo_weight_ignore_top: int = 0,
                 pseudo_weight_ignore_bottom: int = 0,
                 imnet_feature_dist_lambda: float = 0.0,
                 imnet_feature_dist_classes: Optional[Sequence[int]] = None,
                 imnet_feature_dist_scale_min_ratio: Optional[float] = None,
                 fd_nan_when_empty: bool = False,
                 mix: str = 'class',
                 mixer: Optional[dict] = None,
                 blur: bool = True,
                 color_jitter_strength: float = 0.2,
                 color_jitter_probability: float = 0.2,
                 mask_mode: Optional[str] = None,
                 mask_alpha: Any = 'same',
                 mask_pseudo_threshold: Any = 'same',
                 mask_lambda: float = 0.0,
                 mask_generator: Optional[dict] = None,
                 refiners: Sequence[dict] = (),
                 mix_augmenters: Sequence[dict] = (),
                 extra_losses: Sequence[dict] = (),
                 test_model: str = 'student',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if test_model not in self.TEST_MODELS:
            raise ValueError(f'uda.test_model must be one of '
                             f'{self.TEST_MODELS} for {type(self).__name__}, '
                             f'got {test_model!r}')
        if source_only and test_model != 'student':
            raise ValueError('uda.test_model: a source-only run has only the '
                             "student; use test_model='student'")
        self.test_model = test_model
        if test_model != 'student':
            print_log(f'uda.test_model: evaluation and inference use the '
                      f'{test_model}', logger='current')
        if mix != 'class':
            raise ValueError(f'uda.mix: only "class" is supported, got {mix}')
        self.model = MODELS.build(model)
        self.max_iters = max_iters
        self.source_only = source_only
        self.iteration = 0
        self.teacher = None if source_only else EMATeacher(
            self.model, alpha, teacher_average_buffers, teacher_bn_mode)
        self.feature_distance = None
        if imnet_feature_dist_lambda > 0:
            self.feature_distance = ImageNetFeatureDistance(
                self.model,
                lambda_=imnet_feature_dist_lambda,
                classes=imnet_feature_dist_classes,
                scale_min_ratio=imnet_feature_dist_scale_min_ratio or 0.75,
                nan_when_empty=fd_nan_when_empty)
        self.pseudo_labeler = PseudoLabeler(pseudo_threshold,
                                            pseudo_weight_mode)
        self.pseudo_weight_ignore_top = pseudo_weight_ignore_top
        self.pseudo_weight_ignore_bottom = pseudo_weight_ignore_bottom
        self.mixer = MODELS.build(mixer or dict(type='ClassMix'))
        self.strong_aug = StrongAugmentation(color_jitter_strength,
                                             color_jitter_probability, blur)
        self.refiners = _build_all(refiners, PseudoLabelRefiner)
        self.mix_augmenters = _build_all(mix_augmenters, MixAugmenter)
        extra_losses = list(extra_losses)
        if mask_mode is not None and mask_lambda > 0:
            extra_losses.insert(
                0,
                dict(type='MIC', mask_mode=mask_mode, mask_lambda=mask_lambda,
                     mask_generator=mask_generator, mask_alpha=mask_alpha,
                     mask_pseudo_threshold=mask_pseudo_threshold,
                     color_jitter_strength=color_jitter_strength,
                     color_jitter_probability=color_jitter_probability))
        self.extra_losses = _build_all(extra_losses, ExtraLoss)
        self._debug_requested = False
        self._debug: Optional[Dict[str, torch.Tensor]] = None

    # ----------------------------------------------------------- set-up
    def init_weights(self) -> None:
        """Initialise the student; frozen copies start from its weights."""
        self.model.init_weights()
        if self.feature_distance is not None:
            self.feature_distance.reset(self.model)
        if self.teacher is not None:
            self.teacher.update(self.model, 0)

    def get_extra_state(self) -> Dict[str, int]:
        return {'iteration': self.iteration}

    def set_extra_state(self, state: Dict[str, int]) -> None:
        self.iteration = int(state['iteration'])

    # ------------------------------------------------------------ step
    def train_step(self, data: Dict[str, Any],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        data = self.data_preprocessor(data, True)
        ctx = self.make_context(data)
        optim_wrapper.zero_grad()
        self.update_teachers(ctx)
        log = self.source_stage(ctx, optim_wrapper)
        if not self.source_only:
            log.update(self.target_stage(ctx, optim_wrapper))
            log.update(self.extra_stage(ctx, optim_wrapper))
        optim_wrapper.step()
        self.sync_buffers()
        self._collect_debug(ctx)
        self.iteration += 1
        return log

    def buffered_networks(self) -> List[nn.Module]:
        """Networks whose buffers (BatchNorm running statistics) change in
        the step: the student and, in train BN mode, the teacher."""
        nets = [self.model]
        if self.teacher is not None:
            nets.append(self.teacher.model)
        return nets

    def sync_buffers(self) -> None:
        """Across ranks: each network's floating buffers become their mean
        over the ranks (a no-op in one process), so every rank holds the
        same running statistics after the step."""
        for net in self.buffered_networks():
            mean_buffers_(net)

    def make_context(self, data: Dict[str, Any]) -> UDAStepContext:
        return UDAStepContext(
            iteration=self.iteration,
            source=data['source'],
            target=data.get('target'),
            prompt=data.get('prompt'),
            student=self.model,
            teacher=None if self.teacher is None else self.teacher.model)

    def update_teachers(self, ctx: UDAStepContext) -> None:
        if self.teacher is not None:
            self.teacher.update(self.model, ctx.iteration)

    def source_stage(self, ctx: UDAStepContext,
                     optim_wrapper: OptimWrapper) -> LossDict:
        """Supervised source loss (and ImageNet feature distance)."""
        src = ctx.source
        with optim_wrapper.optim_context(self):
            losses = self.model.forward_train(
                src['img'], src['img_metas'], src['gt_semantic_seg'],
                return_feat=self.feature_distance is not None)
            features = losses.pop('features', None)
            if self.feature_distance is not None:
                fd = self.feature_distance.loss(src['img'],
                                                src['gt_semantic_seg'],
                                                features)
                losses.update(_prefixed(fd, 'src'))
        ctx.source_features = features
        return self.backward(optim_wrapper, losses)

    def target_stage(self, ctx: UDAStepContext,
                     optim_wrapper: OptimWrapper) -> LossDict:
        """Pseudo-label the target, mix, augment, train on the mixture."""
        with autocast_context(optim_wrapper, self):
            ctx.pseudo = self.pseudo_labels(ctx)
            confident_fraction = ctx.pseudo.confident_fraction
            for refiner in self.refiners:
                ctx.pseudo = refiner.refine(ctx, ctx.pseudo)
        ctx.mixed = self.mixed_batch(ctx)
        crop = self.hr_crop_box(ctx, ctx.mixed.img.shape)
        with optim_wrapper.optim_context(self):
            losses = self.model.forward_train(
                ctx.mixed.img, ctx.target['img_metas'], ctx.mixed.label,
                seg_weight=ctx.mixed.weight, **crop)
        scale = getattr(self.mixer, 'mix_loss_weight', 1.0)
        if scale != 1.0:
            losses = {
                k: v * scale if 'loss' in k else v
                for k, v in losses.items()
            }
        log = self.backward(optim_wrapper, losses, 'mix')
        log.update(pseudo_label_log(ctx.pseudo, confident_fraction))
        return log

    def hr_crop_box(self, ctx: UDAStepContext,
                    img_shape: Sequence[int]) -> Dict[str, Any]:
        """HRDA: the HR detail crop ``(y1, y2, x1, x2)`` of the mixed batch,
        drawn here (the same draw ``forward_train`` would make first) so
        that the debug figure can outline it; ``{}`` for a single-scale
        student."""
        if getattr(self.model, 'crop_size', None) is None or \
                not hasattr(self.model, 'get_crop_box'):
            return {}
        box = self.model.get_crop_box(img_shape)
        # the box is in pixels of the image at the cropped scale; the
        # figure draws it on the input-sized mixed image
        ctx.extras.setdefault('debug', {})['hr_crop_box'] = scale_box(
            box, self.model.scales[-1])
        return dict(crop_box=box)

    def extra_stage(self, ctx: UDAStepContext,
                    optim_wrapper: OptimWrapper) -> LossDict:
        """Plug-in losses (MIC, FPA, entropy balance...), one backward each."""
        log: LossDict = {}
        for extra in self.extra_losses:
            with optim_wrapper.optim_context(self):
                loss_dicts = extra.losses(ctx)
            for losses in loss_dicts:
                log.update(self.backward(optim_wrapper, losses, extra.prefix))
        return log

    # ----------------------------------------------------------- stages
    @torch.no_grad()
    def pseudo_labels(self, ctx: UDAStepContext) -> PseudoLabels:
        tgt = ctx.target
        logits = self.teacher.predict_logits(tgt['img'], tgt['img_metas'])
        pseudo = self.pseudo_labeler(logits)
        pseudo.weight = restrict_to_valid_region(
            pseudo.weight, tgt.get('valid_pseudo_mask'),
            self.pseudo_weight_ignore_top, self.pseudo_weight_ignore_bottom)
        return pseudo

    def mixed_batch(self, ctx: UDAStepContext) -> MixedBatch:
        mixed = self.mixer.mix(ctx.source['img'],
                               ctx.source['gt_semantic_seg'],
                               ctx.target['img'], ctx.pseudo)
        mixed = self._augment(ctx, mixed, 'before_strong_aug')
        params = self.strong_aug.draw_params()
        mixed.img = self.strong_aug(mixed.img, ctx.img_norm_cfg, params)
        ctx.extras['strong_aug_params'] = params
        return self._augment(ctx, mixed, 'after_strong_aug')

    def _augment(self, ctx: UDAStepContext, mixed: MixedBatch,
                 stage: str) -> MixedBatch:
        for augmenter in self.mix_augmenters:
            if augmenter.stage == stage:
                mixed = augmenter.augment(ctx, mixed)
        return mixed

    def backward(self,
                 optim_wrapper: OptimWrapper,
                 losses: LossDict,
                 prefix: str = '') -> LossDict:
        """Back-propagate one stage's losses; return them for logging."""
        loss, log_vars = self.parse_losses(_prefixed(losses, prefix))
        if loss.requires_grad:
            optim_wrapper.backward(loss)
        log_vars.pop('loss', None)
        return log_vars

    # ------------------------------------------------------- inference
    def deployed_model(self) -> Callable[..., Any]:
        """The network evaluation and inference use (``test_model``)."""
        if self.test_model == 'teacher':
            return self.teacher.model
        return self.model

    def forward(self,
                img: torch.Tensor = None,
                img_metas: Optional[List[dict]] = None,
                gt_semantic_seg: Optional[torch.Tensor] = None,
                mode: str = 'predict',
                **kwargs) -> Any:
        """Evaluation and inference: :meth:`deployed_model`."""
        return self.deployed_model()(
            img, img_metas, gt_semantic_seg=gt_semantic_seg, mode=mode,
            **kwargs)

    # ----------------------------------------------------------- debug
    def request_debug(self) -> None:
        """Ask the next step to keep its intermediate images (for a hook)."""
        self._debug_requested = True

    def pop_debug(self) -> Optional[Dict[str, torch.Tensor]]:
        debug, self._debug = self._debug, None
        return debug

    @torch.no_grad()
    def _collect_debug(self, ctx: UDAStepContext) -> None:
        if not self._debug_requested:
            return
        self._debug_requested = False
        debug = dict(
            source_img=ctx.source['img'],
            source_gt=ctx.source['gt_semantic_seg'],
            img_norm_cfg=ctx.img_norm_cfg,
            iteration=ctx.iteration)
        if ctx.target is not None:
            debug['target_img'] = ctx.target['img']
        if ctx.pseudo is not None:
            debug.update(pseudo_label=ctx.pseudo.label,
                         pseudo_weight=ctx.pseudo.weight)
        if ctx.mixed is not None:
            debug.update(mixed_img=ctx.mixed.img, mixed_label=ctx.mixed.label,
                         mix_mask=ctx.mixed.mask)
            was_training = self.model.training
            self.model.eval()
            debug['mixed_pred'] = self.model.encode_decode(
                ctx.mixed.img, ctx.target['img_metas']).argmax(1)
            debug['target_pred'] = self.model.encode_decode(
                ctx.target['img'], ctx.target['img_metas']).argmax(1)
            if hasattr(self.model, 'scale_attention'):  # HRDA
                attention = self.model.scale_attention(ctx.target['img'])
                if attention is not None:
                    debug['scale_attention'] = attention
            self.model.train(was_training)
        debug.update(ctx.extras.get('debug', {}))
        self._debug = {
            k: v.detach().cpu() if torch.is_tensor(v) else v
            for k, v in debug.items()
        }
