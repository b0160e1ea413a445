"""One output file per input image, decided before anything is written.

Prediction PNGs (``tools/test.py --format-only``), overlays (``--show-dir``)
and pseudo-labels (``tools/seco/dump_pseudo_labels.py``) are named after their
images. Dark Zurich and ACDC keep images of different sequences in different
folders, and two of them may share a base name; written to one flat folder,
the second would silently replace the first. :func:`plan_outputs` maps every
image to its output path up front and raises :class:`OutputCollisionError`
naming both images when two would land on the same file, so nothing is
written (or lost) before the user has chosen a layout.
"""
import os.path as osp
from typing import Dict, Iterable, List


class OutputCollisionError(ValueError):
    """Two inputs would be written to the same output file."""


def output_name(rel_path: str, keep_subdirs: bool = False,
                suffix: str = '.png') -> str:
    """``seq/x_rgb_anon.jpg`` -> ``x_rgb_anon.png`` (flat) or
    ``seq/x_rgb_anon.png`` (``keep_subdirs``)."""
    stem = osp.splitext(rel_path if keep_subdirs else
                        osp.basename(rel_path))[0]
    return osp.normpath(stem + suffix)


def plan_outputs(rel_paths: Iterable[str], out_dir: str,
                 keep_subdirs: bool = False, suffix: str = '.png',
                 flag: str = '') -> Dict[str, str]:
    """Map each input path (relative to its image folder) to its output file
    under ``out_dir``.

    Raises :class:`OutputCollisionError` naming both inputs (and ``flag``,
    the switch that keeps sub-folders, when the caller has one) if two
    inputs map to one file, or an input path is absolute or leaves the
    folder (``..``), which would write outside ``out_dir``.
    """
    plan: Dict[str, str] = {}
    owners: Dict[str, str] = {}
    for rel in rel_paths:
        if osp.isabs(rel) or osp.normpath(rel).startswith('..'):
            raise OutputCollisionError(
                f'{rel}: image path is not inside the image folder; cannot '
                f'place its output under {out_dir}')
        name = output_name(rel, keep_subdirs, suffix)
        key = osp.normcase(name)
        if key in owners and owners[key] != rel:
            hint = (f'; pass {flag} to write each under its sub-folder'
                    if flag and not keep_subdirs else
                    '; rename one of the images')
            raise OutputCollisionError(
                f'{owners[key]} and {rel} would both be written to '
                f'{osp.join(out_dir, name)}{hint}; nothing was written')
        owners[key] = rel
        plan[rel] = osp.join(out_dir, name)
    return plan


def dataset_image_paths(dataset) -> List[str]:
    """The image paths of a segmentation dataset, relative to its image
    folder, in sample order (``img_infos[i]['filename']``)."""
    infos = getattr(dataset, 'img_infos', None)
    if infos is None:
        raise TypeError(f'{type(dataset).__name__} has no img_infos; cannot '
                        'plan its output files')
    return [info['filename'] for info in infos]
