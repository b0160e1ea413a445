"""The SCC connectivity classifier: a compact CNN on component patches.

A patch is centred on the component's bounding box (``patch_size``, grown
with the same aspect ratio to fit large components, zero-padded outside
the image, then resized) and comes with the component's mask. The mask
multiplies the stem feature map, so the network sees the component in its
context but classifies the component.

Training follows SeCo's SCC with a small network instead of ResNet-101:
label-smoothed CE (0.1) against the noisy component labels, SGD (momentum
0.9, Nesterov, weight decay 1e-3, backbone lr = 0.1 x head lr) with the
schedule ``lr * (1 + 10 * it / T) ** -0.75``; training may stop at an
*early* iteration, whose model is the one used for the correction.
"""
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmseg.seco.components import Component

IMAGENET_MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
IMAGENET_STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)


def crop_patch(image: np.ndarray, component: Component,
               patch_size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """(uint8 ``[ph, pw, 3]`` image patch, uint8 ``[ph, pw]`` mask patch)."""
    ph, pw = patch_size
    x, y, w, h = component.bbox
    scale = max(1.0, h / ph, w / pw)
    ch, cw = int(round(ph * scale)), int(round(pw * scale))
    top = y + h // 2 - ch // 2
    left = x + w // 2 - cw // 2
    img_patch = np.zeros((ch, cw, 3), dtype=np.uint8)
    mask_patch = np.zeros((ch, cw), dtype=np.uint8)
    H, W = image.shape[:2]
    y0, y1 = max(top, 0), min(top + ch, H)
    x0, x1 = max(left, 0), min(left + cw, W)
    img_patch[y0 - top:y1 - top, x0 - left:x1 - left] = image[y0:y1, x0:x1]
    my0, mx0 = y - top, x - left
    mask_patch[my0:my0 + h, mx0:mx0 + w] = component.mask
    if (ch, cw) != (ph, pw):
        img_patch = cv2.resize(img_patch, (pw, ph),
                               interpolation=cv2.INTER_LINEAR)
        mask_patch = cv2.resize(mask_patch, (pw, ph),
                                interpolation=cv2.INTER_NEAREST)
    return img_patch, mask_patch


def patches_to_tensors(images: np.ndarray,
                       masks: np.ndarray) -> Tuple[torch.Tensor, torch.Tensor]:
    """uint8 patches ``[N, h, w, 3]``/``[N, h, w]`` -> normalised tensors."""
    img = (images.astype(np.float32) - IMAGENET_MEAN) / IMAGENET_STD
    return (torch.from_numpy(img).permute(0, 3, 1, 2).contiguous(),
            torch.from_numpy(masks.astype(np.float32))[:, None])


class ComponentPatches:
    """Patches of all components, cut once (optionally into a memmap).

    Args:
        components: the components.
        load_image: ``name -> [H, W, 3] uint8 RGB`` image of a component.
        patch_size: ``(height, width)`` of a patch.
        cache_file: optional ``.npy`` prefix to keep patches on disk.
    """

    def __init__(self, components: Sequence[Component],
                 load_image: Callable[[str], np.ndarray],
                 patch_size: Tuple[int, int] = (64, 128),
                 cache_file: Optional[str] = None) -> None:
        n, (ph, pw) = len(components), patch_size
        if cache_file is None:
            self.images = np.zeros((n, ph, pw, 3), dtype=np.uint8)
            self.masks = np.zeros((n, ph, pw), dtype=np.uint8)
        else:
            self.images = np.lib.format.open_memmap(
                cache_file + '_img.npy', 'w+', np.uint8, (n, ph, pw, 3))
            self.masks = np.lib.format.open_memmap(
                cache_file + '_mask.npy', 'w+', np.uint8, (n, ph, pw))
        order = sorted(range(n), key=lambda i: components[i].image)
        current, image = None, None
        for i in order:  # each image is decoded once
            if components[i].image != current:
                current = components[i].image
                image = load_image(current)
            self.images[i], self.masks[i] = crop_patch(image, components[i],
                                                       patch_size)
        self.labels = np.array([c.label for c in components], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.labels)

    def batch(self, index: np.ndarray) -> Tuple[torch.Tensor, torch.Tensor]:
        return patches_to_tensors(self.images[index], self.masks[index])


def _conv_bn(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ConnectivityClassifier(nn.Module):
    """Compact CNN: masked stem, ``depth`` stride-2 blocks, pooling, fc."""

    def __init__(self, num_classes: int = 19, width: int = 32,
                 depth: int = 3) -> None:
        super().__init__()
        self.stem = _conv_bn(3, width, 2)
        blocks, channels = [], width
        for _ in range(depth):
            blocks.append(_conv_bn(channels, channels * 2, 2))
            channels *= 2
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, img: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.stem(img)
        x = x * F.interpolate(mask, size=x.shape[-2:], mode='nearest')
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))


@dataclass
class TrainConfig:
    """Training settings of the connectivity classifier."""
    epochs: int = 20
    early_iter: Optional[int] = None  # stop here (the early checkpoint)
    batch_size: int = 64
    lr: float = 0.01  # fc; the rest uses lr * backbone_lr_factor
    backbone_lr_factor: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-3
    label_smoothing: float = 0.1
    seed: int = 0
    device: str = 'cpu'


def train_classifier(model: ConnectivityClassifier, data: ComponentPatches,
                     cfg: TrainConfig,
                     log: Optional[Callable[[str], None]] = None
                     ) -> ConnectivityClassifier:
    """Train on the noisy component labels; returns the early model."""
    rng = np.random.default_rng(cfg.seed)
    model.to(cfg.device).train()
    head = list(model.fc.parameters())
    head_ids = {id(p) for p in head}
    base = [p for p in model.parameters() if id(p) not in head_ids]
    optimizer = torch.optim.SGD(
        [{'params': base, 'lr': cfg.lr * cfg.backbone_lr_factor},
         {'params': head, 'lr': cfg.lr}],
        momentum=cfg.momentum, nesterov=True, weight_decay=cfg.weight_decay)
    init_lrs = [g['lr'] for g in optimizer.param_groups]
    per_epoch = max(len(data) // cfg.batch_size, 1)
    total = cfg.epochs * per_epoch
    stop = total if cfg.early_iter is None else min(cfg.early_iter, total)
    labels = torch.from_numpy(data.labels)
    it = 0
    while it < stop:
        order = rng.permutation(len(data))
        for start in range(0, per_epoch * cfg.batch_size, cfg.batch_size):
            if it >= stop:
                break
            it += 1
            decay = (1 + 10 * it / total) ** -0.75
            for group, lr in zip(optimizer.param_groups, init_lrs):
                group['lr'] = lr * decay
            index = np.sort(order[start:start + cfg.batch_size])
            img, mask = data.batch(index)
            logits = model(img.to(cfg.device), mask.to(cfg.device))
            loss = F.cross_entropy(logits, labels[index].to(cfg.device),
                                   label_smoothing=cfg.label_smoothing)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if log is not None and (it == 1 or it % 100 == 0):
                log(f'iter {it}/{stop} loss {loss.item():.4f}')
    return model


@torch.no_grad()
def evaluate_components(model: ConnectivityClassifier, data: ComponentPatches,
                        batch_size: int = 256, device: str = 'cpu'
                        ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per component: (CE loss vs its noisy label, predicted class, score)."""
    model.to(device).eval()
    losses: List[np.ndarray] = []
    preds: List[np.ndarray] = []
    scores: List[np.ndarray] = []
    for start in range(0, len(data), batch_size):
        index = np.arange(start, min(start + batch_size, len(data)))
        img, mask = data.batch(index)
        logits = model(img.to(device), mask.to(device)).float()
        target = torch.from_numpy(data.labels[index]).to(device)
        losses.append(F.cross_entropy(logits, target,
                                      reduction='none').cpu().numpy())
        prob, pred = logits.softmax(dim=1).max(dim=1)
        preds.append(pred.cpu().numpy())
        scores.append(prob.cpu().numpy())
    if not losses:
        empty = np.zeros(0)
        return empty, empty.astype(np.int64), empty
    return (np.concatenate(losses), np.concatenate(preds),
            np.concatenate(scores))
