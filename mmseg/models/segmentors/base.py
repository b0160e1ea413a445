"""Base segmentor: mmengine ``BaseModel`` with the mmseg 0.16 method names."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModel

Metas = Union[dict, Sequence[dict]]


def as_meta_list(img_metas: Optional[Metas], batch_size: int) -> List[dict]:
    """``img_metas`` as one dict per image (empty dicts when missing)."""
    if img_metas is None:
        return [{} for _ in range(batch_size)]
    if isinstance(img_metas, dict):
        return [img_metas]
    return list(img_metas)


class BaseSegmentor(BaseModel):
    """Dispatches ``forward`` modes to the mmseg 0.16 style methods.

    Call graph::

        forward(mode='loss')    -> forward_train()   (subclass)
        forward(mode='predict') -> predict() -> scores_max()
                                -> inference() (subclass) -> max
        forward(mode='tensor')  -> encode_decode()   (subclass)

    Subclasses implement ``forward_train``, ``encode_decode`` and
    ``inference``. Batches come from ``seg_collate``: ``img [B, 3, H, W]``,
    ``img_metas`` (list of dicts), optional ``gt_semantic_seg [B, 1, H, W]``;
    other sample keys (e.g. ``valid_pseudo_mask``) are accepted and ignored.
    """

    def __init__(self, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)

    def forward(self,
                img: torch.Tensor,
                img_metas: Optional[Metas] = None,
                gt_semantic_seg: Optional[torch.Tensor] = None,
                mode: str = 'loss',
                seg_weight: Optional[torch.Tensor] = None,
                **kwargs) -> Union[Dict[str, torch.Tensor], List[dict],
                                   torch.Tensor]:
        metas = as_meta_list(img_metas, img.shape[0])
        if mode == 'loss':
            if gt_semantic_seg is None:
                raise ValueError("forward(mode='loss') needs gt_semantic_seg")
            return self.forward_train(img, metas, gt_semantic_seg,
                                      seg_weight=seg_weight)
        if mode == 'predict':
            return self.predict(img, metas, gt_semantic_seg,
                                with_confidence=bool(
                                    kwargs.get('with_confidence', False)))
        if mode == 'tensor':
            return self.encode_decode(img, metas)
        raise ValueError(f'invalid forward mode {mode!r} '
                         "(loss, predict or tensor)")

    def forward_train(self, img: torch.Tensor, img_metas: List[dict],
                      gt_semantic_seg: torch.Tensor,
                      seg_weight: Optional[torch.Tensor] = None,
                      return_feat: bool = False,
                      crop_box=None) -> Dict[str, torch.Tensor]:
        raise NotImplementedError

    def encode_decode(self, img: torch.Tensor,
                      img_metas: List[dict]) -> torch.Tensor:
        raise NotImplementedError

    def inference(self, img: torch.Tensor, img_metas: List[dict],
                  rescale: bool) -> torch.Tensor:
        raise NotImplementedError

    def simple_test(self, img: torch.Tensor, img_metas: List[dict],
                    rescale: bool = True) -> List[torch.Tensor]:
        """``int64 [H, W]`` class maps, one per image.

        Images are inferred together when they share ``ori_shape`` and flip,
        one by one otherwise.
        """
        return [labels for _, labels in self.scores_max(img, img_metas,
                                                        rescale)]

    def scores_max(self, img: torch.Tensor, img_metas: List[dict],
                   rescale: bool = True
                   ) -> List[Tuple[torch.Tensor, torch.Tensor]]:
        """``(max score [H, W], class [H, W])`` per image: the largest
        softmax probability of each pixel and its class (the prediction of
        :meth:`simple_test`); grouped as there."""
        keys = {(tuple(m.get('ori_shape', ())), m.get('flip', False),
                 m.get('flip_direction')) for m in img_metas}
        if len(keys) <= 1:
            values, labels = self.inference(img, img_metas, rescale).max(1)
            return list(zip(values, labels))
        out = []
        for i, meta in enumerate(img_metas):
            values, labels = self.inference(img[i:i + 1], [meta],
                                            rescale).max(1)
            out.append((values[0], labels[0]))
        return out

    @torch.no_grad()
    def predict(self, img: torch.Tensor, img_metas: List[dict],
                gt_semantic_seg: Optional[torch.Tensor] = None,
                with_confidence: bool = False) -> List[dict]:
        """One dict per image: ``pred_sem_seg`` at ``ori_shape``, ``img_metas``
        and, when the batch carries labels, ``gt_sem_seg`` (``[H, W]``);
        ``with_confidence`` adds ``seg_confidence``, the max softmax
        probability per pixel (float ``[H, W]`` in [0, 1]), which the Dark
        Zurich server scores (``forward(..., with_confidence=True)``)."""
        scored = self.scores_max(img, img_metas, rescale=True)
        results = []
        for i, ((conf, pred), meta) in enumerate(zip(scored, img_metas)):
            result = {'pred_sem_seg': pred.long(), 'img_metas': meta}
            if with_confidence:
                result['seg_confidence'] = conf.float()
            if gt_semantic_seg is not None:
                result['gt_sem_seg'] = gt_semantic_seg[i].reshape(
                    gt_semantic_seg[i].shape[-2:]).long()
            results.append(result)
        return results
