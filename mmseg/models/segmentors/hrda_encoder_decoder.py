"""HRDA: multi-resolution encoder-decoder (LR context + HR detail crop)."""
import copy
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from mmseg.errors import ConfigError
from mmseg.models.segmentors.crop_box import Box, crop, random_crop_box
from mmseg.models.segmentors.encoder_decoder import (EncoderDecoder,
                                                     slide_windows)
from mmseg.models.segmentors.input_padding import (backbone_min_input_size,
                                                   grid_multiple,
                                                   pad_bottom_right, round_up)
from mmseg.registry import MODELS

Features = Tuple[torch.Tensor, ...]


@MODELS.register_module()
class HRDAEncoderDecoder(EncoderDecoder):
    """Two-scale segmentor whose ``HRDAHead`` fuses context and detail logits.

    Call graph::

        forward_train(crop_box=None): get_crop_box() if needed
            -> _forward_train_features(): LR image -> backbone;
                                          HR crop  -> backbone
            -> decode_head.forward_train(crop_box) -> 'decode.*', 'decode.hr.*'
        encode_decode(): pad to input_size_rule() if needed;
            LR image -> backbone;
            HR image -> extract_slide_feat() (windows batched) or backbone
            -> decode_head.forward_test() -> resize to input -> unpad
        extract_feat(): backbone on the ``feature_scale`` image (or all scales)

    The HR crop box is an argument and a return value of ``get_crop_box``,
    never state on the model.

    Args:
        scales: the two input scales, sorted (index 0 = LR context).
        hr_crop_size: ``(h, w)`` of the training HR crop; None = full image.
            Each side must lie on the LR logit grid (a multiple of
            ``os * hr_scale / lr_scale``, 8 for DAFormerHead on ``[0.5, 1]``)
            and be at least the backbone's smallest input (32 for MiT);
            :class:`ConfigError` otherwise.
        hr_slide_inference: HR branch at inference by sliding windows of
            ``hr_crop_size``.
        hr_slide_overlapping: window stride = half the crop (else the crop).
        crop_coord_divisible: crop offsets are multiples of this.
        blur_hr_crop: HR input = bilinear down(0.5)/up(2) of the image.
        feature_scale: scale whose features ``return_feat``/``extract_feat``
            give, or ``'all'`` for the list of both scales.
        Other args: as :class:`EncoderDecoder`.
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
                 data_preprocessor: Optional[dict] = None,
                 scales: Sequence[float] = (1, ),
                 hr_crop_size: Optional[Sequence[int]] = None,
                 hr_slide_inference: bool = True,
                 hr_slide_overlapping: bool = True,
                 crop_coord_divisible: int = 1,
                 blur_hr_crop: bool = False,
                 feature_scale: Union[float, str] = 1) -> None:
        if isinstance(feature_scale, str) and feature_scale != 'all':
            raise ValueError(f"feature_scale must be a scale or 'all', not "
                             f'{feature_scale!r}')
        scales = sorted(scales)
        if len(scales) > 2:
            raise ValueError('HRDAEncoderDecoder supports up to 2 scales')
        decode_head = copy.deepcopy(dict(decode_head))
        decode_head.update(scales=scales,
                           enable_hr_crop=hr_crop_size is not None,
                           hr_slide_inference=hr_slide_inference)
        super().__init__(backbone, decode_head, neck, auxiliary_head,
                         train_cfg, test_cfg, pretrained, init_cfg,
                         data_preprocessor)
        self.scales = scales
        self.feature_scale = feature_scale
        self.crop_size = tuple(hr_crop_size) if hr_crop_size else None
        self.hr_slide_inference = hr_slide_inference
        self.hr_slide_overlapping = hr_slide_overlapping
        self.crop_coord_divisible = crop_coord_divisible
        self.blur_hr_crop = blur_hr_crop
        if self.crop_size is not None:
            self.check_hr_crop_size()

    @property
    def output_stride(self) -> int:
        """Input pixels per logit cell of the single-scale head."""
        return self.decode_head.os

    def hr_crop_rule(self) -> Tuple[int, int]:
        """``(multiple, minimum)`` of each ``hr_crop_size`` side (HR px).

        The crop's logits (``crop / os`` cells) must be whole, and the crop
        box, scaled to the LR logits (``/ (os * hr / lr)``) where the scale
        attention is masked, must be too; the backbone must accept it.
        """
        lr, hr = self.scales[0], self.scales[-1]
        multiple = grid_multiple(self.output_stride, (1, lr / hr))
        return multiple, round_up(backbone_min_input_size(self.backbone),
                                  multiple)

    def check_hr_crop_size(self) -> None:
        """Raise :class:`ConfigError` naming ``hr_crop_size``, the required
        multiple and the minimum when a side breaks :meth:`hr_crop_rule`."""
        multiple, minimum = self.hr_crop_rule()
        size = list(self.crop_size)
        valid = len(size) == 2 and all(
            isinstance(s, int) and s >= minimum and s % multiple == 0
            for s in size)
        if valid:
            return
        hint = [max(round_up(s, multiple), minimum)
                if isinstance(s, int) and s > 0 else minimum
                for s in (size + size)[:2]] if size else [minimum] * 2
        raise ConfigError(
            f'model.hr_crop_size={size} is invalid: each of its two sides '
            f'must be a multiple of {multiple} (the LR logit cell: output '
            f'stride {self.output_stride} of '
            f'{type(self.decode_head.head).__name__} x scale ratio '
            f'{self.scales[-1] / self.scales[0]:g}) and at least {minimum} '
            f'(smallest {type(self.backbone).__name__} input); e.g. '
            f'hr_crop_size={hint}')

    def input_size_rule(self) -> Tuple[int, int]:
        """``(multiple, minimum)`` of each side of an ``encode_decode``
        input: every scaled copy on the head's logit grid
        (:func:`grid_multiple`) and the LR copy at least the backbone's
        smallest input."""
        multiple = grid_multiple(self.output_stride, self.scales)
        minimum = math.ceil(backbone_min_input_size(self.backbone)
                            / self.scales[0])
        return multiple, round_up(minimum, multiple)

    # ----------------------------------------------------------- images
    def resize(self, img: torch.Tensor, scale: float) -> torch.Tensor:
        """Bilinear rescale of the input (no gradient to the image)."""
        if scale == 1:
            return img
        with torch.no_grad():
            return F.interpolate(img, scale_factor=scale, mode='bilinear',
                                 align_corners=self.align_corners)

    def blur_downup(self, img: torch.Tensor, s: float = 0.5) -> torch.Tensor:
        img = F.interpolate(img, scale_factor=s, mode='bilinear',
                            align_corners=self.align_corners)
        return F.interpolate(img, scale_factor=1 / s, mode='bilinear',
                             align_corners=self.align_corners)

    def scaled_image(self, img: torch.Tensor, scale: float) -> torch.Tensor:
        if scale == 1 and self.blur_hr_crop:
            return self.blur_downup(img)
        return self.resize(img, scale)

    def get_crop_box(self, img_shape: Sequence[int],
                     generator: Optional[torch.Generator] = None) -> Box:
        """Random HR crop box ``(y1, y2, x1, x2)`` for an input ``img_shape``.

        ``img_shape`` ends with ``(H, W)`` of the input image; the box is in
        pixels of the HR-scale image, offsets multiples of
        ``crop_coord_divisible``.
        """
        if self.crop_size is None:
            raise ValueError('get_crop_box needs hr_crop_size')
        hr_scale = self.scales[-1]
        h, w = (int(d * hr_scale) for d in img_shape[-2:])
        return random_crop_box(h, w, self.crop_size,
                               self.crop_coord_divisible, generator)

    # --------------------------------------------------------- features
    def extract_unscaled_feat(self, img: torch.Tensor) -> Features:
        x = self.backbone(img)
        return self.neck(x) if self.with_neck else x

    def extract_slide_feat(self, img: torch.Tensor) -> dict:
        """Features of all HR windows (stacked on the batch dim) and boxes."""
        stride = [c // 2 for c in self.crop_size] \
            if self.hr_slide_overlapping else self.crop_size
        boxes = slide_windows(*img.shape[2:], self.crop_size, stride)
        windows = torch.cat([crop(img, b) for b in boxes], dim=0)
        return {'features': self.extract_unscaled_feat(windows),
                'boxes': boxes}

    def extract_feat(self, img: torch.Tensor,
                     crop_box: Optional[Box] = None
                     ) -> Union[Features, List[Features]]:
        """Features at ``feature_scale``; for ``'all'``, both scales (the HR
        one of ``crop_box`` when training crops are enabled)."""
        if self.feature_scale != 'all':
            return self.extract_unscaled_feat(
                self.resize(img, self.feature_scale))
        feats = []
        for i, s in enumerate(self.scales):
            scaled = self.scaled_image(img, s)
            if i >= 1 and self.crop_size is not None:
                if crop_box is None:
                    raise ValueError("extract_feat with feature_scale='all' "
                                     'needs the crop_box of the HR branch')
                scaled = crop(scaled, crop_box)
            feats.append(self.extract_unscaled_feat(scaled))
        return feats

    def _forward_train_features(self, img: torch.Tensor,
                                crop_box: Optional[Box]) -> List[Features]:
        feats = []
        for i, s in enumerate(self.scales):
            if s == 1 and self.blur_hr_crop:
                scaled = self.blur_downup(img)
            else:
                scaled = img if s == 1 else F.interpolate(
                    img, scale_factor=s, mode='bilinear',
                    align_corners=self.align_corners)
            if i >= 1 and crop_box is not None:
                scaled = crop(scaled, crop_box)
            feats.append(self.extract_unscaled_feat(scaled))
        return feats

    def select_features(self, feats: List[Features]
                        ) -> Union[Features, List[Features]]:
        """The ``feature_scale`` branch of per-scale features."""
        if self.feature_scale == 'all':
            return feats
        if self.feature_scale not in self.scales:
            raise ValueError(f'feature_scale {self.feature_scale} is not one '
                             f'of the scales {self.scales}')
        return feats[self.scales.index(self.feature_scale)]

    @torch.no_grad()
    def scale_attention(self, img: torch.Tensor) -> Optional[torch.Tensor]:
        """The scale attention of ``img`` ``[B, 3, H, W]``: the weight of the HR
        branch per pixel, ``[B, 1, H, W]`` in 0..1 (mean over classes for a
        class-wise attention); None with a fixed attention."""
        lr = self.extract_unscaled_feat(self.scaled_image(img, self.scales[0]))
        att = self.decode_head.get_scale_attention(lr)
        if not torch.is_tensor(att):
            return None
        return F.interpolate(att.mean(1, keepdim=True), size=img.shape[2:],
                             mode='bilinear', align_corners=self.align_corners)

    # ------------------------------------------------------------ heads
    def encode_decode(self, img: torch.Tensor,
                      img_metas: List[dict]) -> torch.Tensor:
        """Fused logits ``[B, C, H, W]`` of ``img`` (HR by sliding windows).

        An image off :meth:`input_size_rule` (e.g. 126x63, or below 64 px for
        MiT at scale 0.5) is zero-padded at the bottom/right first and its
        logits cropped back; others run as they are.
        """
        h, w = img.shape[2:]
        img, was_padded = pad_bottom_right(img, *self.input_size_rule())
        feats = []
        for i, s in enumerate(self.scales):
            scaled = self.scaled_image(img, s)
            if i >= 1 and self.hr_slide_inference:
                feats.append(self.extract_slide_feat(scaled))
            else:
                feats.append(self.extract_unscaled_feat(scaled))
        out = self.decode_head.forward_test(feats, img_metas, self.test_cfg)
        out = F.interpolate(out, size=img.shape[2:], mode='bilinear',
                            align_corners=self.align_corners)
        return out[:, :, :h, :w] if was_padded else out

    def forward_train(self, img: torch.Tensor, img_metas: List[dict],
                      gt_semantic_seg: torch.Tensor,
                      seg_weight: Optional[torch.Tensor] = None,
                      return_feat: bool = False,
                      crop_box: Optional[Box] = None
                      ) -> Dict[str, torch.Tensor]:
        """Losses of one training forward; a crop box is drawn if not given.

        With ``return_feat``, ``features`` holds the ``feature_scale``
        branch's features (``'all'``: the list of both).
        """
        if self.crop_size is not None and crop_box is None:
            crop_box = self.get_crop_box(img.shape)
        if self.crop_size is None:
            crop_box = None
        feats = self._forward_train_features(img, crop_box)
        losses: Dict[str, torch.Tensor] = {}
        if return_feat:
            losses['features'] = self.select_features(feats)
        losses.update(self._decode_head_forward_train(
            feats, img_metas, gt_semantic_seg, seg_weight,
            crop_box=crop_box))
        return losses
