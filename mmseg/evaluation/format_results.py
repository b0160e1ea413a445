"""Test-server PNGs: one per image in a flat folder, named after the image.

``<basename of the image file without extension>.png`` holding train ids
with the 19-colour palette (``to_label_id=False``; ACDC / Dark Zurich), or
Cityscapes label ids with the label-id colours (``to_label_id=True``; the
Cityscapes server), PIL mode ``P``.
"""
import os
import os.path as osp
import tempfile
from typing import Any, Iterable, Optional, Sequence

import numpy as np
import torch
from PIL import Image

from mmseg.datasets.cityscapes_labels import (ID_PALETTE, PALETTE,
                                              trainid_to_id_lut)


def result_png_name(img_filename: str) -> str:
    """``a/b/x_leftImg8bit.png`` -> ``x_leftImg8bit.png``."""
    return osp.splitext(osp.basename(img_filename))[0] + '.png'


def _palette_bytes(palette) -> list:
    flat = [v for color in palette for v in color]
    return flat + [0] * (768 - len(flat))


def save_result_png(pred: Any, out_file: str, to_label_id: bool = True,
                    what: str = '',
                    palette: Optional[Sequence[Sequence[int]]] = None) -> str:
    """Write one prediction (``[H, W]`` train ids) to ``out_file`` (folders
    created) and return it; ``what`` names the image in errors. Train-id
    PNGs carry ``palette`` (the dataset's; default Cityscapes)."""
    if isinstance(pred, torch.Tensor):
        pred = pred.detach().cpu().numpy()
    pred = np.asarray(pred).squeeze()
    if pred.ndim != 2:
        raise ValueError(f'prediction of {what or out_file} has shape '
                         f'{pred.shape}; expected [H, W]')
    pred = pred.astype(np.uint8)
    if to_label_id:
        pred, palette = trainid_to_id_lut()[pred], ID_PALETTE
    elif palette is None:
        palette = PALETTE
    png = Image.fromarray(pred).convert('P')
    png.putpalette(_palette_bytes(palette))
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    png.save(out_file)
    return out_file


def write_result_png(pred: Any, img_filename: str, out_dir: str,
                     to_label_id: bool = True) -> str:
    """Write one prediction named after its image into ``out_dir``."""
    return save_result_png(pred, osp.join(out_dir,
                                          result_png_name(img_filename)),
                           to_label_id, img_filename)


def format_results(results: Iterable[dict],
                   imgfile_prefix: Optional[str] = None,
                   to_label_id: bool = True) -> str:
    """Write every ``result['pred_sem_seg']`` named after
    ``result['img_metas']['filename']`` into ``imgfile_prefix`` (a new temp
    folder if None) and return the folder. Two images with the same base
    name raise an error instead of overwriting each other."""
    out_dir = imgfile_prefix or tempfile.mkdtemp(prefix='seg_results_')
    written = {}
    for result in results:
        filename = result['img_metas']['filename']
        name = result_png_name(filename)
        if name in written:
            raise ValueError(f'{filename} and {written[name]} would both be '
                             f'written to {osp.join(out_dir, name)}')
        written[name] = filename
        write_result_png(result['pred_sem_seg'], filename, out_dir,
                         to_label_id)
    return out_dir
