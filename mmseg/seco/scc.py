"""SCC (semantic connectivity correction) of a set of pseudo-labels.

1. split every label map into 8-connected components per class;
2. train the connectivity classifier on the components' noisy labels and
   keep the *early* model (``TrainConfig.early_iter``);
3. relabel every component with the predicted class and drop those whose
   loss (CE against the noisy label) is high (:mod:`mmseg.seco.relabel`);
4. paint the kept components; everything else is 255.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch

from mmseg.seco.classifier import (ComponentPatches, ConnectivityClassifier,
                                   TrainConfig, evaluate_components,
                                   train_classifier)
from mmseg.seco.components import (Component, connected_components,
                                   paint_components)
from mmseg.seco.relabel import keep_components


@dataclass
class SCCConfig:
    """Settings of :func:`semantic_connectivity_correction`."""
    num_classes: int = 19
    patch_size: Tuple[int, int] = (64, 128)
    width: int = 32
    depth: int = 3
    min_area: int = 1
    relabel: bool = True
    filter_mode: Optional[str] = 'both_loss'
    ratio: float = 0.5
    train: TrainConfig = field(default_factory=TrainConfig)
    cache_file: Optional[str] = None


@dataclass
class SCCResult:
    """Corrected labels and the per-component statistics behind them."""
    labels: Dict[str, np.ndarray]
    components: List[Component]
    loss: np.ndarray
    pred: np.ndarray
    score: np.ndarray
    keep: np.ndarray


def semantic_connectivity_correction(
        labels: Mapping[str, np.ndarray],
        load_image: Callable[[str], np.ndarray],
        cfg: Optional[SCCConfig] = None,
        log: Optional[Callable[[str], None]] = None,
        write: Optional[Callable[[str, np.ndarray], None]] = None
) -> SCCResult:
    """Correct ``labels`` (name -> uint8 ``[H, W]``, 255 = unlabelled).

    ``load_image(name)`` returns the ``[H, W, 3]`` uint8 RGB image at the
    label's size. ``labels`` is read once, so it may load lazily. With
    ``write(name, label)`` the corrected maps are handed over one by one
    and ``SCCResult.labels`` stays empty.
    """
    cfg = cfg or SCCConfig()
    components: List[Component] = []
    shapes: Dict[str, Tuple[int, int]] = {}
    for name, label in labels.items():
        shapes[name] = label.shape
        components += connected_components(label, name, min_area=cfg.min_area)
    if log is not None:
        log(f'{len(components)} components in {len(shapes)} label maps')
    if components:
        torch.manual_seed(cfg.train.seed)
        data = ComponentPatches(components, load_image, cfg.patch_size,
                                cfg.cache_file)
        model = ConnectivityClassifier(cfg.num_classes, cfg.width, cfg.depth)
        train_classifier(model, data, cfg.train, log)
        loss, pred, score = evaluate_components(model, data,
                                                device=cfg.train.device)
        noisy = data.labels
    else:
        loss = score = np.zeros(0)
        pred = noisy = np.zeros(0, dtype=np.int64)
    keep = keep_components(loss, pred, cfg.filter_mode, cfg.ratio)
    new_labels = pred if cfg.relabel else noisy
    kept: Dict[str, List[int]] = {name: [] for name in shapes}
    for i, component in enumerate(components):
        if keep[i]:
            kept[component.image].append(i)
    out: Dict[str, np.ndarray] = {}
    for name, index in kept.items():
        painted = paint_components(shapes[name],
                                   [components[i] for i in index],
                                   [int(new_labels[i]) for i in index])
        if write is None:
            out[name] = painted
        else:
            write(name, painted)
    return SCCResult(out, components, loss, pred, score, keep)
