"""LPIPS perceptual distance (AlexNet variant), frozen.

``d(x, y) = sum_l mean_hw( w_l . (f_l(x)/|f_l(x)| - f_l(y)/|f_l(y)|)^2 )``
with ``f_l`` the AlexNet relu1..relu5 features of the scaled inputs, unit
normalised over channels, and ``w_l`` the learned 1x1 "lin" layers.

Weight files (user-supplied, weights-only loading):

- ``lin_weights``: the LPIPS package's ``weights/v0.1/alex.pth``
  (keys ``lin{k}.model.1.weight``);
- ``alexnet_weights``: torchvision's ImageNet ``alexnet`` state dict
  (the classifier keys are dropped).

``input_range``:

- ``'normalized'`` feeds the mmseg-normalised tensors straight in, which is
  what PIG does (reproduction switch);
- ``'minus_one_one'`` de-normalises to [-1, 1] first, the range LPIPS is
  defined on.

``train_dropout``: the "lin" layers hold a dropout (p = 0.5) before their
1x1 conv, as in the LPIPS package. ``False`` (our default) keeps it off
always, so a class similarity is a deterministic function of the images.
``True`` reproduces PIG: there the LPIPS module is a child of the UDA model,
which the runner keeps in train mode, and ``lpips.LPIPS`` is built with
``use_dropout=True``, so during training half the feature differences are
dropped (the rest doubled) at random in every distance; in evaluation mode
it is off. The AlexNet features have no dropout.
"""
from typing import List, Optional, Sequence

import torch
from torch import nn

from mmseg.models.similarity.alexnet import AlexNetFeatures
from mmseg.models.similarity.frozen_metric import (IMAGENET_MEAN, IMAGENET_STD,
                                                   FrozenMetric,
                                                   load_weight_file)
from mmseg.models.utils.precision import full_precision
from mmseg.registry import MODELS

# LPIPS' ScalingLayer: [-1, 1] input -> ImageNet-standardised input.
LPIPS_SHIFT = (-.030, -.088, -.188)
LPIPS_SCALE = (.458, .448, .450)
INPUT_RANGES = ('normalized', 'minus_one_one')
EPS = 1e-10


class LinLayer(nn.Module):
    """1x1 conv to one channel; ``model.1`` so keys match the LPIPS package."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.Dropout(), nn.Conv2d(channels, 1, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def unit_normalize(feat: torch.Tensor) -> torch.Tensor:
    """Divide each pixel's feature vector by its L2 norm (channel dim)."""
    norm = torch.sqrt(torch.sum(feat**2, dim=1, keepdim=True))
    return feat / (norm + EPS)


@MODELS.register_module()
class LPIPS(FrozenMetric):
    """LPIPS distance between two image batches, one value per pair ``[N]``."""

    def __init__(self,
                 net: str = 'alex',
                 lin_weights: Optional[str] = None,
                 alexnet_weights: Optional[str] = None,
                 input_range: str = 'normalized',
                 pretrained: bool = True,
                 train_dropout: bool = False,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD) -> None:
        super().__init__(mean, std)
        self.train_dropout = train_dropout
        if net != 'alex':
            raise ValueError(f'lpips.py: only net="alex" is implemented, '
                             f'got {net!r}')
        if input_range not in INPUT_RANGES:
            raise ValueError(f'lpips.py: input_range must be one of '
                             f'{INPUT_RANGES}, got {input_range!r}')
        self.input_range = input_range
        self.net = AlexNetFeatures()
        for k, channels in enumerate(self.net.channels):
            self.add_module(f'lin{k}', LinLayer(channels))
        self.register_buffer('shift', torch.tensor(LPIPS_SHIFT).view(
            1, 3, 1, 1), persistent=False)
        self.register_buffer('scale', torch.tensor(LPIPS_SCALE).view(
            1, 3, 1, 1), persistent=False)
        if pretrained:
            self.load_weights(lin_weights, alexnet_weights)
        else:  # learned lin weights are non-negative; keep d >= 0
            for k in range(5):
                getattr(self, f'lin{k}').model[1].weight.data.abs_()
        self.freeze(pretrained)

    def train(self, mode: bool = True) -> 'LPIPS':
        """Eval mode always; with ``train_dropout`` the lin layers' dropout
        follows ``mode`` (the parent's train/eval switch), as in PIG."""
        super().train(mode)
        for k in range(len(self.net.channels)):
            getattr(self, f'lin{k}').model[0].train(mode and
                                                   self.train_dropout)
        return self

    def load_weights(self, lin_weights: Optional[str],
                     alexnet_weights: Optional[str]) -> None:
        alex = load_weight_file(alexnet_weights, 'alexnet_weights', 'LPIPS')
        self.net.load_torchvision_state_dict(alex, alexnet_weights)
        lin = load_weight_file(lin_weights, 'lin_weights', 'LPIPS')
        expected = {f'lin{k}.model.1.weight' for k in range(5)}
        if set(lin) != expected:
            raise KeyError(f'{lin_weights}: expected LPIPS lin keys '
                           f'{sorted(expected)}, got {sorted(lin)}')
        for k in range(5):
            getattr(self, f'lin{k}').model[1].weight.data.copy_(
                lin[f'lin{k}.model.1.weight'])

    def prepare(self, x: torch.Tensor,
                img_norm_cfg: Optional[dict] = None) -> torch.Tensor:
        """Apply the input-range convention, then LPIPS' scaling layer."""
        if self.input_range == 'minus_one_one':
            x = self.denormalize(x, img_norm_cfg) / 127.5 - 1.0
        return (x - self.shift.to(x)) / self.scale.to(x)

    def layer_distances(self, x: torch.Tensor, y: torch.Tensor,
                        img_norm_cfg: Optional[dict] = None,
                        y_index: Optional[torch.Tensor] = None
                        ) -> List[torch.Tensor]:
        """Per-layer spatially averaged distances, each ``[N]``: pair ``i``
        is ``(x[i], y[i])``, or ``(x[i], y[y_index[i]])`` with ``y_index``,
        so that an image compared with many (a target with each of its
        class images) goes through AlexNet once."""
        n = x.shape[0]
        feats = self.net(self.prepare(torch.cat([x, y]), img_norm_cfg))
        dists = []
        with full_precision(x.device.type):  # distances in fp32 under --amp
            for k, feat in enumerate(feats):
                feat = unit_normalize(feat.float())
                ref = feat[n:] if y_index is None else feat[n:][y_index]
                diff = (feat[:n] - ref)**2
                dists.append(
                    getattr(self, f'lin{k}')(diff).mean(dim=(1, 2, 3)))
        return dists

    @torch.no_grad()
    def forward(self, x: torch.Tensor, y: torch.Tensor,
                img_norm_cfg: Optional[dict] = None,
                y_index: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Distances ``[N]`` of the pairs ``(x[i], y[i])``, ``x`` and ``y``
        ``[N, 3, H, W]``; with ``y_index`` (int ``[N]``) of the pairs
        ``(x[i], y[y_index[i]])``, ``y`` ``[M, 3, H, W]``.

        Raises:
            ValueError: the images differ in shape, or ``y_index`` does not
                give one index per ``x`` image.
        """
        if y_index is None and x.shape != y.shape or \
                x.shape[1:] != y.shape[1:]:
            raise ValueError(f'lpips.py: inputs differ in shape: '
                             f'{tuple(x.shape)} vs {tuple(y.shape)}')
        if y_index is not None and y_index.shape != x.shape[:1]:
            raise ValueError(f'lpips.py: y_index needs one index per x image '
                             f'({x.shape[0]}), got {tuple(y_index.shape)}')
        return torch.stack(self.layer_distances(x, y, img_norm_cfg,
                                                y_index)).sum(0)
