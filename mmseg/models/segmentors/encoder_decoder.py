"""Backbone + decode head segmentor, whole or sliding-window inference."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from mmseg.errors import ConfigError
from mmseg.models.decode_heads.decode_head import resize_to
from mmseg.models.losses.loss_dict import add_prefix
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.models.segmentors.input_padding import (backbone_min_input_size,
                                                   pad_bottom_right)
from mmseg.registry import MODELS

Box = Tuple[int, int, int, int]


def slide_windows(h_img: int, w_img: int, crop_size: Sequence[int],
                  stride: Sequence[int]) -> List[Box]:
    """Windows ``(y1, y2, x1, x2)`` on a grid, clamped inside the image.

    ``n = max(L - crop + stride - 1, 0) // stride + 1`` per axis; a window
    never extends past the border (it is shifted back instead of padded).
    """
    (h_crop, w_crop), (h_stride, w_stride) = crop_size, stride
    h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
    w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
    boxes = []
    for h_idx in range(h_grids):
        for w_idx in range(w_grids):
            y2 = min(h_idx * h_stride + h_crop, h_img)
            x2 = min(w_idx * w_stride + w_crop, w_img)
            boxes.append((max(y2 - h_crop, 0), y2, max(x2 - w_crop, 0), x2))
    return boxes


def check_test_cfg(test_cfg: dict) -> None:
    """Raise :class:`ConfigError` for a ``test_cfg`` inference cannot use
    (unknown ``mode``; slide without positive 2-int ``crop_size``/``stride``).
    """
    mode = test_cfg.get('mode', 'whole')
    if mode not in ('whole', 'slide'):
        raise ConfigError(f'model.test_cfg.mode must be whole or slide, not '
                          f'{mode!r}')
    if mode != 'slide':
        return
    for key in ('crop_size', 'stride'):
        value = test_cfg.get(key)
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or not all(isinstance(v, int) and v > 0 for v in value)):
            raise ConfigError(f"model.test_cfg.{key} must be two positive "
                              f"ints (height, width) for mode='slide', not "
                              f'{value!r}')


@MODELS.register_module()
class EncoderDecoder(BaseSegmentor):
    """Encoder-decoder segmentor (DAFormer, SegFormer, DeepLabV2).

    Call graph::

        forward_train(): extract_feat() -> _decode_head_forward_train()
                         -> decode_head.forward_train() -> 'decode.*' losses
        inference(): whole_inference() | slide_inference() -> softmax -> unflip
            whole_inference(): encode_decode() -> rescale to ori_shape
            slide_inference(): encode_decode() per window (or all windows
                batched) -> average logits -> rescale
        encode_decode(): pad to input_size_rule() if needed -> extract_feat()
                         -> decode_head.forward_test() -> resize -> unpad

    Args:
        backbone, decode_head, neck: module configs (``neck`` optional).
        auxiliary_head: not supported (must be None).
        train_cfg: passed to the head's ``forward_train``.
        test_cfg: ``mode`` ``'whole'`` or ``'slide'`` (with ``crop_size``,
            ``stride``, ``batched_slide``). Images smaller than the slide
            crop are one window; any image of at least 1x1 px is predicted
            at its own size (see :meth:`encode_decode`).
        pretrained: backbone weights file, loaded by ``init_weights()``.
        init_cfg, data_preprocessor: of mmengine's ``BaseModel``.
    """

    def __init__(self,
                 backbone: dict,
                 decode_head: dict,
                 neck: Optional[dict] = None,
                 auxiliary_head: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if auxiliary_head is not None:
            raise NotImplementedError(
                f'{type(self).__name__}: auxiliary heads are not supported')
        backbone = copy.deepcopy(dict(backbone))
        if pretrained is not None:
            if backbone.get('pretrained') is not None:
                raise ValueError('both backbone and segmentor set pretrained')
            backbone['pretrained'] = pretrained
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            self.neck = MODELS.build(copy.deepcopy(neck))
        self.decode_head = MODELS.build(copy.deepcopy(decode_head))
        self.align_corners = self.decode_head.align_corners
        self.num_classes = self.decode_head.num_classes
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = dict(test_cfg or dict(mode='whole'))
        check_test_cfg(self.test_cfg)

    @property
    def with_neck(self) -> bool:
        return getattr(self, 'neck', None) is not None

    @property
    def with_auxiliary_head(self) -> bool:
        return False

    def extract_feat(self, img: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Backbone (and neck) features of ``img``."""
        x = self.backbone(img)
        return self.neck(x) if self.with_neck else x

    def input_size_rule(self) -> Tuple[int, int]:
        """``(multiple, minimum)`` every side of a network input must meet:
        any size at or above the backbone's smallest input."""
        return 1, backbone_min_input_size(self.backbone)

    def encode_decode(self, img: torch.Tensor,
                      img_metas: List[dict]) -> torch.Tensor:
        """Logits ``[B, C, H, W]`` of ``img [B, 3, H, W]`` at its size.

        An image below :meth:`input_size_rule` is zero-padded at the
        bottom/right first and its logits cropped back; others run as they
        are.
        """
        h, w = img.shape[2:]
        padded, was_padded = pad_bottom_right(img, *self.input_size_rule())
        out = self.decode_head.forward_test(self.extract_feat(padded),
                                            img_metas, self.test_cfg)
        out = resize_to(out, padded.shape[2:], self.align_corners)
        return out[:, :, :h, :w] if was_padded else out

    def generate_pseudo_label(self, img: torch.Tensor,
                              img_metas: List[dict]) -> torch.Tensor:
        """Logits for pseudo-labels (HRDA's name for ``encode_decode``)."""
        return self.encode_decode(img, img_metas)

    def _decode_head_forward_train(self, x, img_metas: List[dict],
                                   gt_semantic_seg: torch.Tensor,
                                   seg_weight: Optional[torch.Tensor] = None,
                                   **kwargs) -> Dict[str, torch.Tensor]:
        losses = self.decode_head.forward_train(x, img_metas, gt_semantic_seg,
                                                self.train_cfg, seg_weight,
                                                **kwargs)
        return add_prefix(losses, 'decode')

    def forward_train(self, img: torch.Tensor, img_metas: List[dict],
                      gt_semantic_seg: torch.Tensor,
                      seg_weight: Optional[torch.Tensor] = None,
                      return_feat: bool = False,
                      crop_box: Optional[Box] = None
                      ) -> Dict[str, torch.Tensor]:
        """``decode.loss_seg``/``decode.acc_seg`` (+ ``features``).

        ``crop_box`` is accepted for interface parity with HRDA and unused.
        """
        x = self.extract_feat(img)
        losses = {'features': x} if return_feat else {}
        losses.update(self._decode_head_forward_train(
            x, img_metas, gt_semantic_seg, seg_weight))
        return losses

    def rescale_logits(self, logits: torch.Tensor,
                       img_metas: List[dict]) -> torch.Tensor:
        """Drop padding (``img_shape``) and resize to ``ori_shape``."""
        meta = img_metas[0]
        if 'img_shape' in meta:
            h, w = meta['img_shape'][:2]
            logits = logits[:, :, :h, :w]
        if 'ori_shape' in meta:
            logits = resize_to(logits, meta['ori_shape'][:2],
                               self.align_corners)
        return logits

    def whole_inference(self, img: torch.Tensor, img_metas: List[dict],
                        rescale: bool) -> torch.Tensor:
        logits = self.encode_decode(img, img_metas)
        return self.rescale_logits(logits, img_metas) if rescale else logits

    def slide_inference(self, img: torch.Tensor, img_metas: List[dict],
                        rescale: bool) -> torch.Tensor:
        """Average of window logits; ``batched_slide``: all windows at once."""
        batch, _, h_img, w_img = img.shape
        boxes = slide_windows(h_img, w_img, self.test_cfg['crop_size'],
                              self.test_cfg['stride'])
        crops = [img[:, :, y1:y2, x1:x2] for y1, y2, x1, x2 in boxes]
        if self.test_cfg.get('batched_slide', False):
            logits = self.encode_decode(torch.cat(crops), img_metas)
            window_logits = logits.split(batch)
        else:
            window_logits = [self.encode_decode(c, img_metas) for c in crops]
        preds = img.new_zeros((batch, self.num_classes, h_img, w_img))
        count = img.new_zeros((batch, 1, h_img, w_img))
        for (y1, y2, x1, x2), logit in zip(boxes, window_logits):
            preds[:, :, y1:y2, x1:x2] += logit
            count[:, :, y1:y2, x1:x2] += 1
        preds = preds / count
        return self.rescale_logits(preds, img_metas) if rescale else preds

    def inference(self, img: torch.Tensor, img_metas: List[dict],
                  rescale: bool) -> torch.Tensor:
        """Softmax scores (``whole``/``slide`` by test_cfg), flip undone.

        All images of the batch must share ``ori_shape`` and flip.
        """
        mode = self.test_cfg.get('mode', 'whole')
        if mode not in ('whole', 'slide'):
            raise ValueError(f'test_cfg.mode must be whole or slide, not '
                             f'{mode!r}')
        infer = self.slide_inference if mode == 'slide' \
            else self.whole_inference
        output = F.softmax(infer(img, img_metas, rescale), dim=1)
        meta = img_metas[0]
        if meta.get('flip', False):
            direction = meta.get('flip_direction', 'horizontal')
            if direction not in ('horizontal', 'vertical'):
                raise ValueError(f'invalid flip_direction {direction!r}')
            output = output.flip(dims=(3, ) if direction == 'horizontal'
                                 else (2, ))
        return output
