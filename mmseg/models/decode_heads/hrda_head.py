"""HRDA head: LR context and HR detail logits fused by scale attention."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses.loss_dict import add_prefix
from mmseg.models.segmentors.crop_box import crop, scale_box
from mmseg.registry import MODELS

Box = Sequence[int]
HRFeatures = Union[Sequence[torch.Tensor], Dict[str, object]]
Attention = Union[torch.Tensor, float]

OUTPUT_STRIDE = {'DAFormerHead': 4, 'DLV2Head': 8}


@MODELS.register_module()
class HRDAHead(BaseDecodeHead):
    """Fuse a low-res (context) and a high-res (detail) prediction.

    Call graph::

        forward_train(): forward(crop_box) -> losses(crop_box)
        forward([lr_feats, hr_feats], crop_box):
            head(lr_feats) -> lr_seg;  decode_hr(hr_feats) -> hr_seg
            get_scale_attention(lr_feats) -> a (masked to the box, LR grid)
            fused = up((1 - a) * lr_seg) + up(a) * insert(hr_seg at box / os)

    ``hr_feats`` is the feature tuple of the HR crop (training) or HR image,
    or ``{'features': window features stacked on the batch dim, 'boxes':
    [(y1, y2, x1, x2), ...]}`` from sliding windows (inference); window
    logits are averaged into one canvas.

    Args:
        single_scale_head: ``'DAFormerHead'`` (output stride 4) or
            ``'DLV2Head'`` (8), built as ``head`` and shared by both scales.
        lr_loss_weight, hr_loss_weight: weights of the extra CE terms on the
            attention-weighted LR logits and the HR crop logits.
        scales: sorted ``[lr_scale, hr_scale]``, injected by the segmentor.
        attention_embed_dim: channels of the scale attention head.
        attention_classwise: one attention map per class (else one map).
        enable_hr_crop: training HR branch sees a crop (box required).
        hr_slide_inference: injected by the segmentor (informational here).
        fixed_attention: constant attention instead of a learned head.
        **kwargs: the single-scale head's config.
    """

    def __init__(self,
                 single_scale_head: str,
                 lr_loss_weight: float = 0,
                 hr_loss_weight: float = 0,
                 scales: Sequence[float] = (1, ),
                 attention_embed_dim: int = 256,
                 attention_classwise: bool = True,
                 enable_hr_crop: bool = False,
                 hr_slide_inference: bool = True,
                 fixed_attention: Optional[float] = None,
                 debug_output_attention: bool = False,
                 **kwargs) -> None:
        if single_scale_head not in OUTPUT_STRIDE:
            raise NotImplementedError(
                f'HRDAHead: single_scale_head {single_scale_head!r} is not '
                f'supported ({", ".join(OUTPUT_STRIDE)})')
        if debug_output_attention:
            raise NotImplementedError(
                'HRDAHead: debug_output_attention is not supported')
        head_cfg = dict(copy.deepcopy(kwargs), type=single_scale_head)
        attn_cfg = self.attention_head_cfg(head_cfg, attention_embed_dim,
                                           attention_classwise)
        wrapper_cfg = dict(kwargs, init_cfg=None)
        wrapper_cfg.pop('with_cp', None)  # an option of the inner heads
        if single_scale_head == 'DAFormerHead':
            wrapper_cfg['input_transform'] = 'multiple_select'
        else:
            wrapper_cfg.pop('dilations', None)
            wrapper_cfg['channels'] = 1
        super().__init__(**wrapper_cfg)
        del self.conv_seg
        del self.dropout
        self.os = OUTPUT_STRIDE[single_scale_head]
        self.head = MODELS.build(head_cfg)
        self.scale_attention = MODELS.build(attn_cfg) \
            if fixed_attention is None else None
        self.fixed_attention = fixed_attention
        self.lr_loss_weight = lr_loss_weight
        self.hr_loss_weight = hr_loss_weight
        self.scales = list(scales)
        self.enable_hr_crop = enable_hr_crop
        self.hr_slide_inference = hr_slide_inference

    @staticmethod
    def attention_head_cfg(head_cfg: dict, embed_dim: int,
                           classwise: bool) -> dict:
        """Config of the scale attention head derived from the main head's."""
        cfg = copy.deepcopy(head_cfg)
        if cfg['type'] == 'DAFormerHead':
            cfg['channels'] = embed_dim
            params = dict(cfg['decoder_params'])
            params['embed_dims'] = embed_dim
            fusion = params['fusion_cfg']
            if fusion['type'] == 'aspp':
                params['fusion_cfg'] = dict(
                    type='conv', kernel_size=1, act_cfg=dict(type='ReLU'),
                    norm_cfg=fusion['norm_cfg'])
            cfg['decoder_params'] = params
        if not classwise:
            cfg['num_classes'] = 1
        return cfg

    def decode_hr(self, hr_feats: HRFeatures, batch_size: int) -> torch.Tensor:
        """HR logits; sliding-window features are stitched and averaged."""
        if not isinstance(hr_feats, dict):
            return self.head(hr_feats)
        logits = self.head(hr_feats['features'])
        boxes = [scale_box(b, self.os) for b in hr_feats['boxes']]
        height = max(b[1] for b in boxes)
        width = max(b[3] for b in boxes)
        preds = logits.new_zeros((batch_size, logits.shape[1], height, width))
        count = logits.new_zeros((batch_size, 1, height, width))
        for i, (y1, y2, x1, x2) in enumerate(boxes):
            preds[:, :, y1:y2, x1:x2] += \
                logits[i * batch_size:(i + 1) * batch_size]
            count[:, :, y1:y2, x1:x2] += 1
        # (a meta tensor, as get_flops counts with, has no values to test)
        if count.device.type != 'meta' and (count == 0).any():
            raise RuntimeError('HRDAHead: sliding windows leave pixels '
                               'uncovered')
        return preds / count

    def get_scale_attention(self, lr_feats: Sequence[torch.Tensor]
                            ) -> Attention:
        """``sigmoid(scale_attention(lr_feats))`` or the fixed attention."""
        if self.scale_attention is None:
            return self.fixed_attention
        return torch.sigmoid(self.scale_attention(lr_feats))

    def upsample(self, x: torch.Tensor) -> torch.Tensor:
        factor = self.scales[1] / self.scales[0]
        if factor == 1:
            return x
        return torch.nn.functional.interpolate(
            x, scale_factor=factor, mode='bilinear',
            align_corners=self.align_corners)

    def forward(self, inputs: Sequence[object],
                crop_box: Optional[Box] = None
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns ``(fused, attention-weighted lr_seg, hr_seg)``."""
        if len(inputs) != 2:
            raise ValueError('HRDAHead expects [lr_feats, hr_feats]')
        lr_feats, hr_feats = inputs
        lr_scale = self.scales[0]
        lr_seg = self.head(lr_feats)
        hr_seg = self.decode_hr(hr_feats, lr_seg.shape[0])
        att = self.get_scale_attention(lr_feats)
        if crop_box is not None:
            mask = lr_seg.new_zeros((lr_seg.shape[0], 1, *lr_seg.shape[2:]))
            y1, y2, x1, x2 = scale_box(crop_box, self.os / lr_scale)
            mask[:, :, y1:y2, x1:x2] = 1
            att = att * mask
        lr_seg = (1 - att) * lr_seg
        up_lr_seg = self.upsample(lr_seg)
        if torch.is_tensor(att):
            att = self.upsample(att)
        if crop_box is not None:
            inserted = torch.zeros_like(up_lr_seg)
            y1, y2, x1, x2 = scale_box(crop_box, self.os)
            inserted[:, :, y1:y2, x1:x2] = hr_seg
        else:
            inserted = hr_seg
        return att * inserted + up_lr_seg, lr_seg, hr_seg

    def forward_train(self, inputs: Sequence[object], img_metas: List[dict],
                      gt_semantic_seg: torch.Tensor,
                      train_cfg: Optional[dict],
                      seg_weight: Optional[torch.Tensor] = None,
                      crop_box: Optional[Box] = None
                      ) -> Dict[str, torch.Tensor]:
        if self.enable_hr_crop and crop_box is None:
            raise ValueError('HRDAHead: enable_hr_crop needs the crop_box of '
                             'the HR input')
        outputs = self.forward(inputs, crop_box)
        return self.losses(outputs, gt_semantic_seg, seg_weight, crop_box)

    def forward_test(self, inputs: Sequence[object], img_metas: List[dict],
                     test_cfg: Optional[dict]) -> torch.Tensor:
        return self.forward(inputs)[0]

    def losses(self, seg_logit: Tuple[torch.Tensor, ...],
               seg_label: torch.Tensor,
               seg_weight: Optional[torch.Tensor] = None,
               crop_box: Optional[Box] = None) -> Dict[str, torch.Tensor]:
        """``(1-wl-wh) CE(fused) + wl CE(lr) + wh CE(hr, crop y, crop w)``."""
        fused, lr_seg, hr_seg = seg_logit
        loss = super().losses(fused, seg_label, seg_weight)
        if self.hr_loss_weight == 0 and self.lr_loss_weight == 0:
            return loss
        if self.lr_loss_weight > 0:
            loss.update(add_prefix(
                super().losses(lr_seg, seg_label, seg_weight), 'lr'))
        if self.hr_loss_weight > 0:
            if self.enable_hr_crop:
                seg_label = crop(seg_label, crop_box)
                if seg_weight is not None:
                    seg_weight = crop(seg_weight, crop_box)
            loss.update(add_prefix(
                super().losses(hr_seg, seg_label, seg_weight), 'hr'))
        loss['loss_seg'] = loss['loss_seg'] * (
            1 - self.lr_loss_weight - self.hr_loss_weight)
        if self.lr_loss_weight > 0:
            loss['lr.loss_seg'] = loss['lr.loss_seg'] * self.lr_loss_weight
        if self.hr_loss_weight > 0:
            loss['hr.loss_seg'] = loss['hr.loss_seg'] * self.hr_loss_weight
        return loss
