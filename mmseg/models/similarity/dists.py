"""DISTS structure and texture distance (Ding et al. 2020), frozen.

For the input image (as layer 0) and the VGG16 relu1_2..relu5_3 features of
both images, per channel: ``S1 = (2 mx my + c) / (mx^2 + my^2 + c)`` (texture,
from the spatial means) and ``S2 = (2 cov + c) / (vx + vy + c)`` (structure);
``d = 1 - sum_ch(alpha S1 + beta S2)`` with ``alpha``/``beta`` normalised to
sum 1 together. DISTS is defined on RGB in [0, 1], ImageNet-standardised
inside.

Weight files (user-supplied, weights-only loading): ``vgg_weights`` is
torchvision's ImageNet ``vgg16`` state dict; ``alpha_beta_weights`` holds
``alpha`` and ``beta`` (``[1, 1475, 1, 1]``), the ``weights.pt`` shipped with
the DISTS-pytorch package.

``input_range``: ``'normalized'`` (mmseg-normalised, de-normalised to [0, 1]
here) or ``'zero_one'``.
"""
from typing import Optional, Sequence

import torch
from torch import nn

from mmseg.models.similarity.frozen_metric import (IMAGENET_MEAN, IMAGENET_STD,
                                                   FrozenMetric,
                                                   load_weight_file)
from mmseg.models.similarity.vgg16 import VGG16Features
from mmseg.registry import MODELS

DISTS_CHANNELS = (3, 64, 128, 256, 512, 512)
INPUT_RANGES = ('normalized', 'zero_one')
C1 = C2 = 1e-6


@MODELS.register_module()
class DISTS(FrozenMetric):
    """DISTS distance between two image batches, one value per pair ``[N]``."""

    def __init__(self,
                 vgg_weights: Optional[str] = None,
                 alpha_beta_weights: Optional[str] = None,
                 input_range: str = 'normalized',
                 pretrained: bool = True,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD) -> None:
        super().__init__(mean, std)
        if input_range not in INPUT_RANGES:
            raise ValueError(f'dists.py: input_range must be one of '
                             f'{INPUT_RANGES}, got {input_range!r}')
        self.input_range = input_range
        self.net = VGG16Features(pool='l2')
        total = sum(DISTS_CHANNELS)
        self.alpha = nn.Parameter(torch.empty(1, total, 1, 1))
        self.beta = nn.Parameter(torch.empty(1, total, 1, 1))
        nn.init.normal_(self.alpha, 0.1, 0.01)
        nn.init.normal_(self.beta, 0.1, 0.01)
        imnet = torch.tensor([0.485, 0.456, 0.406]), torch.tensor(
            [0.229, 0.224, 0.225])
        self.register_buffer('imnet_mean', imnet[0].view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer('imnet_std', imnet[1].view(1, 3, 1, 1),
                             persistent=False)
        if pretrained:
            self.load_weights(vgg_weights, alpha_beta_weights)
        self.freeze(pretrained)

    def load_weights(self, vgg_weights: Optional[str],
                     alpha_beta_weights: Optional[str]) -> None:
        vgg = load_weight_file(vgg_weights, 'vgg_weights', 'DISTS')
        self.net.load_torchvision_state_dict(vgg, vgg_weights)
        ab = load_weight_file(alpha_beta_weights, 'alpha_beta_weights',
                              'DISTS')
        for name in ('alpha', 'beta'):
            if name not in ab or ab[name].numel() != self.alpha.numel():
                raise KeyError(f'{alpha_beta_weights}: expected "{name}" with '
                               f'{self.alpha.numel()} values')
            getattr(self, name).data.copy_(ab[name].view_as(self.alpha))

    def features(self, x: torch.Tensor, img_norm_cfg: Optional[dict] = None):
        if self.input_range == 'normalized':
            x = self.denormalize(x, img_norm_cfg) / 255.0
        h = (x - self.imnet_mean.to(x)) / self.imnet_std.to(x)
        return [x] + self.net(h)

    @torch.no_grad()
    def forward(self, x: torch.Tensor, y: torch.Tensor,
                img_norm_cfg: Optional[dict] = None) -> torch.Tensor:
        if x.shape != y.shape:
            raise ValueError(f'dists.py: inputs differ in shape: '
                             f'{tuple(x.shape)} vs {tuple(y.shape)}')
        n = x.shape[0]
        feats = self.features(torch.cat([x, y]), img_norm_cfg)
        w_sum = self.alpha.sum() + self.beta.sum()
        alphas = torch.split(self.alpha / w_sum, DISTS_CHANNELS, dim=1)
        betas = torch.split(self.beta / w_sum, DISTS_CHANNELS, dim=1)
        score = x.new_zeros(n, dtype=torch.float32)
        for feat, alpha, beta in zip(feats, alphas, betas):
            feat = feat.float()  # statistics in fp32 under --amp
            fx, fy = feat[:n], feat[n:]
            mx = fx.mean((2, 3), keepdim=True)
            my = fy.mean((2, 3), keepdim=True)
            texture = (2 * mx * my + C1) / (mx**2 + my**2 + C1)
            vx = ((fx - mx)**2).mean((2, 3), keepdim=True)
            vy = ((fy - my)**2).mean((2, 3), keepdim=True)
            cov = (fx * fy).mean((2, 3), keepdim=True) - mx * my
            structure = (2 * cov + C2) / (vx + vy + C2)
            score = score + (alpha * texture + beta * structure).sum(
                dim=(1, 2, 3))
        return 1 - score
