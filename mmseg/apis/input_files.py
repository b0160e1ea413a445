"""The image files a demo is given (files, folders, globs) and the files it
will write, all decided before anything is written.

Each input image keeps its path relative to the input that named it (a
folder or the fixed part of a glob; a file's own name), and its outputs are
written at that relative path under the output folder. Two inputs that would
write one file, an output that would replace an input, and (unless allowed)
an output folder inside an input folder are refused first.
"""
import glob
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Sequence

from mmseg.evaluation.output_paths import OutputCollisionError
from mmseg.utils.cli import OutputDirError

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff',
                    '.webp', '.ppm', '.pgm')


@dataclass(frozen=True)
class InputImage:
    """One image: its ``path``, its path ``rel`` under ``folder`` (the
    folder or glob base that named it), and whether ``folder`` is searched
    (a folder or glob input) or only holds a file given by name."""
    path: str
    rel: str
    folder: str
    searched: bool


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _folder_images(folder: str) -> List[InputImage]:
    found = []
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs.sort()
        for name in sorted(files):
            if _is_image(name):
                path = osp.join(root, name)
                found.append(InputImage(path, osp.relpath(path, folder),
                                        folder, True))
    return found


def _glob_base(pattern: str) -> str:
    """The folder part of ``pattern`` before its first wildcard."""
    parts = []
    for part in pattern.split(os.sep):
        if glob.has_magic(part):
            break
        parts.append(part)
    return os.sep.join(parts) or '.'


def collect_images(inputs: Sequence[str]) -> List[InputImage]:
    """The images named by ``inputs``: a file (any extension: it is decoded
    or reported later), a folder (image files by extension, searched
    recursively, sorted) or a glob pattern (``**`` recursive).

    Raises:
        FileNotFoundError: an input that does not exist, an empty folder or
            a pattern matching no file, naming it.
    """
    images: List[InputImage] = []
    for item in inputs:
        if osp.isdir(item):
            found = _folder_images(item)
            if not found:
                raise FileNotFoundError(
                    f'{item}: no image files ({", ".join(IMAGE_EXTENSIONS)})'
                    ' in the folder or its sub-folders')
        elif osp.isfile(item):
            found = [InputImage(item, osp.basename(item),
                                osp.dirname(item) or '.', False)]
        elif glob.has_magic(item):
            base = _glob_base(item)
            found = [InputImage(p, osp.relpath(p, base), base, True)
                     for p in sorted(glob.glob(item, recursive=True))
                     if osp.isfile(p)]
            if not found:
                raise FileNotFoundError(f'{item}: no file matches the '
                                        'pattern')
        else:
            raise FileNotFoundError(f'input not found: {item}')
        images += found
    return images


def check_out_dir(out_dir: str, images: Sequence[InputImage],
                  allow_in_place: bool = False) -> None:
    """Refuse an output folder that is a searched input folder or inside
    one (a later run would take the overlays for inputs), or that is the
    folder of an input file, unless ``allow_in_place``.

    Raises:
        OutputDirError: naming ``out_dir`` and the input folder.
    """
    if allow_in_place:
        return
    out = osp.realpath(out_dir)
    for image in images:
        folder = osp.realpath(image.folder)
        inside = out == folder or (image.searched and
                                   out.startswith(folder.rstrip(os.sep) +
                                                  os.sep))
        if inside:
            raise OutputDirError(
                f'--out-dir {out_dir} is {"" if out == folder else "inside "}'
                f'the input folder {image.folder}; choose another folder or '
                'pass --allow-in-place')


def plan_outputs(images: Sequence[InputImage], out_dir: str,
                 suffixes: Sequence[str]) -> Dict[str, List[str]]:
    """``{input path: [output path per suffix]}``: ``rel`` without its
    extension plus each suffix (e.g. ``'.png'``, ``'_trainIds.png'``) under
    ``out_dir``.

    Raises:
        OutputCollisionError: two inputs would write one file, or an output
            would replace an input file; nothing has been written.
    """
    inputs = {osp.normcase(osp.realpath(image.path)): image.path
              for image in images}
    owners: Dict[str, str] = {}
    plan: Dict[str, List[str]] = {}
    for image in images:
        stem = osp.splitext(osp.normpath(image.rel))[0]
        if stem.startswith('..'):
            stem = osp.basename(stem)
        outs = [osp.join(out_dir, stem + suffix) for suffix in suffixes]
        for out in outs:
            key = osp.normcase(osp.realpath(out))
            owner = owners.setdefault(key, image.path)
            if owner != image.path:
                raise OutputCollisionError(
                    f'{owner} and {image.path} would both be written to '
                    f'{out}; nothing was written (rename one or give them '
                    'in separate runs)')
            if key in inputs:
                raise OutputCollisionError(
                    f'{out} (output of {image.path}) would replace the input '
                    f'image {inputs[key]}; nothing was written')
        plan[image.path] = outs
    return plan
