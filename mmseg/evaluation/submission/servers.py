"""What each public evaluation server expects: the test images it scores and
where each prediction goes in the uploaded zip.

All three servers read one single-channel 8-bit PNG per test image, of the
image's size, and find it by name: the Cityscapes evaluation script (which
the Dark Zurich and ACDC servers follow; the Dark Zurich CodaLab server
answers ``Missing prediction for ground truth file
GOPR0364_frame_000001_gt_labelTrainIds.png`` otherwise) matches the first
three ``_``-separated fields of the ground-truth name (``GOPR0364_frame_
000001*.png``, ``berlin_000000_000019*.png``) and needs exactly one match.
We keep the image's own name with ``.png`` (``GOPR0364_frame_000001_rgb_
anon.png``), which satisfies that rule and stays traceable to the image.

- **Dark Zurich** (CodaLab, 151 ``rgb_anon/test/night`` images): three
  top-level folders with the same file names, ``labelTrainIds/`` (train ids
  0-18, scored by IoU), ``labelTrainIds_invalid/`` (the same with 255 where
  the prediction is declared invalid, scored by UIoU) and ``confidence/``
  (16-bit PNGs, confidence in [0, 1] times 65535, scored by average UIoU).
- **ACDC** (acdc.vision.ee.ethz.ch/submit): train ids 0-18 at 1920x1080;
  the zip keeps the per-condition tree of the images,
  ``<condition>/test/<sequence>/<name>.png``; the server's task (all
  adverse conditions, or one of fog/night/rain/snow) selects what it scores.
- **Cityscapes** (cityscapes-dataset.com): Cityscapes label ids (not train
  ids), one flat folder of ``<city>_<seq>_<frame>_leftImg8bit.png``.
"""
import glob
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from mmseg.datasets.acdc import CONDITIONS as ACDC_CONDITIONS


class SubmissionError(ValueError):
    """A test tree, a prediction or an option the packer cannot use."""


@dataclass(frozen=True)
class TestImage:
    """One image a server scores.

    Attributes:
        path: the image file.
        name: its prediction's file name, ``<image stem>.png``.
        arcdir: the folder of its prediction inside the zip ('' = top).
    """
    path: str
    name: str
    arcdir: str = ''


@dataclass(frozen=True)
class Server:
    """Rules of one evaluation server.

    Attributes:
        key: ``--dataset`` value.
        title: the benchmark's name in messages.
        image_glob: test images below the dataset root (``glob`` pattern).
        label_ids: write Cityscapes label ids instead of train ids.
        folders: top-level zip folders, each holding every prediction
            (Dark Zurich); empty = the predictions themselves.
        official_count: test images of the released set (per condition
            for ACDC); a tree with another count is reported.
    """
    key: str
    title: str
    image_glob: str
    label_ids: bool = False
    folders: Tuple[str, ...] = ()
    official_count: int = 0


DARK_ZURICH_FOLDERS = ('labelTrainIds', 'labelTrainIds_invalid',
                       'confidence')

SERVERS: Dict[str, Server] = {
    'darkzurich': Server('darkzurich', 'Dark Zurich',
                         'rgb_anon/test/night/*/*_rgb_anon.png',
                         folders=DARK_ZURICH_FOLDERS, official_count=151),
    'acdc': Server('acdc', 'ACDC', 'rgb_anon/{condition}/test/*/'
                   '*_rgb_anon.png', official_count=500),
    'cityscapes': Server('cityscapes', 'Cityscapes',
                         'leftImg8bit/test/*/*_leftImg8bit.png',
                         label_ids=True, official_count=1525),
}


def get_server(key: str) -> Server:
    """The rules of ``key`` (``darkzurich``, ``acdc``, ``cityscapes``)."""
    if key not in SERVERS:
        raise SubmissionError(f'--dataset {key!r}: choose one of '
                              f'{", ".join(SERVERS)}')
    return SERVERS[key]


def prediction_name(image_path: str) -> str:
    """``.../GOPR0364_frame_000001_rgb_anon.png`` ->
    ``GOPR0364_frame_000001_rgb_anon.png`` (any image extension -> png)."""
    return osp.splitext(osp.basename(image_path))[0] + '.png'


def _acdc_conditions(root: str,
                     conditions: Optional[Sequence[str]]) -> List[str]:
    if conditions:
        unknown = [c for c in conditions if c not in ACDC_CONDITIONS]
        if unknown:
            raise SubmissionError(f'--conditions {" ".join(unknown)}: ACDC '
                                  f'has {", ".join(ACDC_CONDITIONS)}')
        return list(conditions)
    found = [c for c in ACDC_CONDITIONS
             if osp.isdir(osp.join(root, 'rgb_anon', c, 'test'))]
    if not found:
        flat = osp.isdir(osp.join(root, 'rgb_anon', 'test'))
        hint = (' (the flattened rgb_anon/test no longer says each image\'s '
                'condition; keep the shipped rgb_anon/<condition>/test)'
                if flat else '')
        raise SubmissionError(f'{root}: no ACDC test images in '
                              f'rgb_anon/<condition>/test{hint}')
    return found


def test_images(server: Server, root: str,
                conditions: Optional[Sequence[str]] = None
                ) -> List[TestImage]:
    """The test images below ``root`` (the dataset folder) in name order,
    each with the place of its prediction.

    Raises:
        SubmissionError: ``root`` is missing or holds no test image, or
            ``conditions`` is given for a dataset other than ACDC.
    """
    if not osp.isdir(root):
        raise SubmissionError(f'--test-list {root}: no such folder')
    if conditions and server.key != 'acdc':
        raise SubmissionError('--conditions applies to ACDC only')
    if server.key == 'acdc':
        images = []
        for cond in _acdc_conditions(root, conditions):
            pattern = server.image_glob.format(condition=cond)
            for path in sorted(glob.glob(osp.join(root, pattern))):
                seq = osp.basename(osp.dirname(path))
                images.append(TestImage(path, prediction_name(path),
                                        osp.join(cond, 'test', seq)))
    else:
        images = [TestImage(p, prediction_name(p)) for p in
                  sorted(glob.glob(osp.join(root, server.image_glob)))]
    if not images:
        raise SubmissionError(f'{root}: no {server.title} test images '
                              f'({server.image_glob.format(condition="*")})')
    return images
