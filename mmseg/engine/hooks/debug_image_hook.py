"""Writes a figure of one UDA step's images every ``interval`` iterations."""
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.visualization import LocalVisBackend

from mmseg.registry import HOOKS
from mmseg.datasets.cityscapes_labels import CLASSES as CITYSCAPES_CLASSES
from mmseg.datasets.cityscapes_labels import PALETTE as CITYSCAPES_PALETTE

# (key in the step's debug dict, title, kind) per column
PANELS: List[Tuple[str, str, str]] = [
    ('source_img', 'Source Image', 'image'),
    ('source_gt', 'Source GT', 'label'),
    ('target_img', 'Target Image', 'image'),
    ('pseudo_label', 'Target Pseudo-label', 'label'),
    ('pseudo_weight', 'Pseudo Weight', 'weight'),
    ('mixed_img', 'Mixed Image', 'image'),
    ('mix_mask', 'Domain Mask', 'weight'),
    ('mixed_label', 'Mixed Label', 'label'),
    ('mixed_pred', 'Prediction (mix)', 'label'),
    ('target_pred', 'Prediction (target)', 'label'),
    ('masked_img', 'MIC Masked Image', 'image'),
    ('scale_attention', 'HRDA Scale Attention (target)', 'weight'),
]


# panels of the mixed batch, on which HRDA's HR detail crop is drawn
BOXED_PANELS = ('mixed_img', 'mixed_label', 'mixed_pred')


def draw_box(ax, box: Sequence[int]) -> None:
    """Outline ``box = (y1, y2, x1, x2)`` (pixels) on ``ax``."""
    from matplotlib.patches import Rectangle
    y1, y2, x1, x2 = (int(c) for c in box)
    ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1,
                           fill=False, edgecolor='white', linewidth=1.5,
                           linestyle='--'))


def colorize(label: np.ndarray,
             palette: Optional[Sequence[Sequence[int]]] = None
             ) -> np.ndarray:
    """``[H, W, 3]`` colours of a trainId map from the dataset's
    ``palette`` (default the Cityscapes one); ids without a colour (255)
    black."""
    palette = CITYSCAPES_PALETTE if palette is None else palette
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[:len(palette)] = np.array(palette, dtype=np.uint8)
    return lut[label.astype(np.int64).clip(0, 255)]


def label_legend(fig, debug: Dict[str, Any], panels, index: int,
                 classes: Sequence[str],
                 palette: Sequence[Sequence[int]]) -> List[str]:
    """A figure legend of the classes present in the label panels of
    sample ``index``, coloured by ``palette``; returns their names."""
    from matplotlib.patches import Patch
    found = set()
    for key, _, kind in panels:
        if kind == 'label':
            found.update(int(v) for v in torch.unique(debug[key][index]))
    ids = sorted(c for c in found if 0 <= c < len(classes))
    if ids:
        fig.legend(handles=[Patch(facecolor=np.array(palette[c]) / 255,
                                  edgecolor='black', label=classes[c])
                            for c in ids],
                   loc='lower center', ncol=min(len(ids), 8), fontsize=7,
                   frameon=False, bbox_to_anchor=(0.5, -0.08))
    return [classes[c] for c in ids]


def denormalize(img: torch.Tensor, norm_cfg: Dict[str, Any]) -> np.ndarray:
    mean = torch.as_tensor(norm_cfg['mean'], dtype=img.dtype).view(3, 1, 1)
    std = torch.as_tensor(norm_cfg['std'], dtype=img.dtype).view(3, 1, 1)
    rgb = (img * std + mean).clamp(0, 255).byte()
    return rgb.permute(1, 2, 0).numpy()


def panel(value: torch.Tensor, kind: str, index: int,
          norm_cfg: Dict[str, Any],
          palette: Optional[Sequence[Sequence[int]]] = None) -> np.ndarray:
    item = value[index]
    if kind == 'image':
        return denormalize(item, norm_cfg)
    item = item.squeeze(0) if item.dim() == 3 else item
    if kind == 'label':
        return colorize(item.numpy(), palette)
    return item.float().clamp(0, 1).numpy()


def figure_rgb(fig) -> np.ndarray:
    """A drawn matplotlib figure as ``uint8 [H, W, 3]`` RGB."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def image_backends(visualizer) -> list:
    """The visualizer's backends that take images other than the local
    files (the figure is already a PNG under ``work_dir/debug``)."""
    backends = getattr(visualizer, '_vis_backends', {}) or {}
    return [b for b in backends.values()
            if not isinstance(b, LocalVisBackend)]


@HOOKS.register_module()
class UDADebugImageHook(Hook):
    """Asks the UDA model to keep one step's tensors and plots them.

    Writes ``<work_dir>/debug/<iter:06d>_<sample>.png`` with one column per
    available panel (source/target/pseudo-label/mix/prediction, MIC mask,
    HRDA's scale attention on the target, HRDA's HR detail crop outlined
    on the mixed panels); the pseudo weight, domain mask and attention
    panels carry a colour scale. The same figure goes as image
    ``debug/<sample>`` to the run's TensorBoard/W&B backends
    (``log_config.hooks`` / ``visualizer``).
    Nothing is plotted inside the training step. In a multi-process run
    only rank 0 asks for (and writes) the images.
    """

    def __init__(self, interval: int = 1000, max_samples: int = 2) -> None:
        self.interval = interval
        self.max_samples = max_samples

    def _model(self, runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        if (batch_idx + 1) % self.interval == 0 and is_main_process():
            model = self._model(runner)
            if hasattr(model, 'request_debug'):
                model.request_debug()

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        model = self._model(runner)
        debug = model.pop_debug() if hasattr(model, 'pop_debug') else None
        if debug:
            backends = (image_backends(runner.visualizer)
                        if is_main_process() else [])
            meta = getattr(runner.train_dataloader.dataset, 'metainfo',
                           None) or {}
            self.write(debug, osp.join(runner.work_dir, 'debug'),
                       batch_idx + 1, backends, meta.get('classes'),
                       meta.get('palette'))

    def write(self, debug: Dict[str, Any], out_dir: str,
              iteration: int, backends: Sequence = (),
              classes: Optional[Sequence[str]] = None,
              palette: Optional[Sequence[Sequence[int]]] = None
              ) -> List[str]:
        """Save one figure per sample (at most ``max_samples``); also add
        it to each of ``backends`` (mmengine vis backends) at step
        ``iteration``. Labels are coloured by the dataset's ``palette``
        under a legend of its ``classes`` (default: Cityscapes). Returns
        the PNG paths."""
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        os.makedirs(out_dir, exist_ok=True)
        panels = [p for p in PANELS if p[0] in debug]
        batch = debug['source_img'].shape[0]
        paths = []
        for j in range(min(batch, self.max_samples)):
            fig = self.figure(debug, panels, j, classes, palette)
            path = osp.join(out_dir, f'{iteration:06d}_{j}.png')
            fig.savefig(path, dpi=80, bbox_inches='tight')
            if backends:
                fig.set_dpi(80)
                image = figure_rgb(fig)
                for backend in backends:
                    backend.add_image(f'debug/{j}', image, step=iteration)
            plt.close(fig)
            paths.append(path)
        return paths

    @staticmethod
    def figure(debug: Dict[str, Any], panels: List[Tuple[str, str, str]],
               index: int, classes: Optional[Sequence[str]] = None,
               palette: Optional[Sequence[Sequence[int]]] = None):
        """One row of ``panels`` for sample ``index``; weight panels
        (pseudo weight, domain mask, scale attention) get a 0..1 colour
        scale."""
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(
            1, len(panels), figsize=(3 * len(panels), 3), squeeze=False)
        for ax, (key, title, kind) in zip(axes[0], panels):
            image = ax.imshow(
                panel(debug[key], kind, index, debug['img_norm_cfg'],
                      palette),
                cmap='viridis' if kind == 'weight' else None,
                vmin=0,
                vmax=1)
            if kind == 'weight':
                fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
            if key in BOXED_PANELS and debug.get('hr_crop_box') is not None:
                draw_box(ax, debug['hr_crop_box'])
            ax.set_title(title, fontsize=8)
            ax.axis('off')
        label_legend(fig, debug, panels, index,
                     CITYSCAPES_CLASSES if classes is None else classes,
                     CITYSCAPES_PALETTE if palette is None else palette)
        return fig
