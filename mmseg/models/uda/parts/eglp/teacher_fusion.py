"""Test-time fusion of EGLP's two teachers (``uda.test_model='fusion'``)."""
from typing import Any, Callable, List, Optional

import torch
import torch.nn.functional as F

from mmseg.models.segmentors.base import BaseSegmentor, as_meta_list

FuseFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class TeacherFusion:
    """Deploys the pseudo-label fusion: per pixel, the DMS/FIS fusion of the
    UDA teacher's and the NFNet teacher's class probabilities.

    Used like a segmentor for evaluation (``__call__`` with ``mode``
    ``'predict'`` or ``'tensor'``); :meth:`inference` returns the fused label
    as one-hot scores, so ``simple_test`` and ``predict`` are those of
    :class:`BaseSegmentor`. It holds references to the two networks and owns
    no weights, so checkpoints are unchanged.
    """

    simple_test = BaseSegmentor.simple_test
    scores_max = BaseSegmentor.scores_max
    predict = BaseSegmentor.predict

    def __init__(self, uda: BaseSegmentor, nfnet: BaseSegmentor,
                 fuse: FuseFn) -> None:
        self.uda = uda
        self.nfnet = nfnet
        self.fuse = fuse

    def _one_hot(self, p_uda: torch.Tensor,
                 p_nf: torch.Tensor) -> torch.Tensor:
        label = self.fuse(p_uda, p_nf)
        return F.one_hot(label, p_uda.shape[1]).permute(0, 3, 1, 2).to(p_uda)

    @torch.no_grad()
    def inference(self, img: torch.Tensor, img_metas: List[dict],
                  rescale: bool) -> torch.Tensor:
        """One-hot fused scores ``[B, C, H, W]`` (each teacher's test_cfg)."""
        return self._one_hot(self.uda.inference(img, img_metas, rescale),
                             self.nfnet.inference(img, img_metas, rescale))

    @torch.no_grad()
    def encode_decode(self, img: torch.Tensor,
                      img_metas: List[dict]) -> torch.Tensor:
        """One-hot fused scores at the input size."""
        return self._one_hot(
            self.uda.encode_decode(img, img_metas).softmax(1),
            self.nfnet.encode_decode(img, img_metas).softmax(1))

    def __call__(self,
                 img: torch.Tensor,
                 img_metas: Any = None,
                 gt_semantic_seg: Optional[torch.Tensor] = None,
                 mode: str = 'predict',
                 **kwargs: Any) -> Any:
        metas = as_meta_list(img_metas, img.shape[0])
        if mode == 'predict':
            return self.predict(img, metas, gt_semantic_seg)
        if mode == 'tensor':
            return self.encode_decode(img, metas)
        raise ValueError(f"test_model='fusion' supports forward modes "
                         f"'predict' and 'tensor', not {mode!r}")
