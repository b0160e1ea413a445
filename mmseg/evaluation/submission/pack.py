"""Pack prediction PNGs into the zip an evaluation server takes.

Call graph::

    pack_submission(): test_images()          the server's test list
                       -> match_predictions()  one PNG per image, by name
                       -> check_sizes()        headers only
                       -> _write_zip()         temp file, then rename:
                            read_train_ids() -> _entries() -> zip

Everything that can be checked from names and PNG headers is checked before
the zip is opened; a bad pixel value found while writing removes the
temporary file, so on any error nothing is written and an existing ``out``
is left as it was.
"""
import os
import os.path as osp
import tempfile
import zipfile
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from mmseg.datasets.cityscapes_labels import trainid_to_id_lut
from .confidence import (CONFIDENCE_SCALE, confidence_to_uint16, png_bytes,
                         read_confidence_png)
from .predictions import check_sizes, match_predictions, read_train_ids
from .servers import Server, SubmissionError, TestImage, get_server, \
    test_images

INVALID = 255


@dataclass
class PackReport:
    """What :func:`pack_submission` wrote."""
    out: str
    images: int
    files: int
    confidence: str  # 'network', 'constant' or 'none'
    official: int = 0  # test images of the released set, for comparison


def _entries(server: Server, image: TestImage, train_ids: np.ndarray,
             confidence: Optional[np.ndarray],
             invalid_below: Optional[float]
             ) -> Iterator[Tuple[str, bytes]]:
    """``(name in the zip, PNG bytes)`` of one image's prediction."""
    if server.key != 'darkzurich':
        ids = trainid_to_id_lut()[train_ids] if server.label_ids \
            else train_ids
        yield osp.join(image.arcdir, image.name), png_bytes(ids)
        return
    yield osp.join('labelTrainIds', image.name), png_bytes(train_ids)
    invalid = train_ids.copy()
    if invalid_below is not None:
        invalid[confidence < invalid_below] = INVALID
    yield osp.join('labelTrainIds_invalid', image.name), png_bytes(invalid)
    yield osp.join('confidence', image.name), png_bytes(
        confidence_to_uint16(confidence))


def _confidence_of(image: TestImage, conf_paths: Dict[str, str],
                   shape: Tuple[int, ...], constant: bool
                   ) -> Optional[np.ndarray]:
    if image.name in conf_paths:
        return read_confidence_png(conf_paths[image.name])
    if constant:
        return np.ones(shape, np.float32)
    return None


def _write_zip(out: str, server: Server, images: Sequence[TestImage],
               pred_paths: Dict[str, str], conf_paths: Dict[str, str],
               constant: bool, invalid_below: Optional[float]) -> int:
    folder = osp.dirname(osp.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(out) + '.',
                               suffix='.tmp', dir=folder)
    os.close(fd)
    files = 0
    try:
        with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_DEFLATED) as zf:
            for image in images:
                ids = read_train_ids(pred_paths[image.name])
                conf = _confidence_of(image, conf_paths, ids.shape,
                                      constant) \
                    if server.key == 'darkzurich' else None
                for name, data in _entries(server, image, ids, conf,
                                           invalid_below):
                    zf.writestr(name.replace(os.sep, '/'), data)
                    files += 1
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, out)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    return files


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def pack_submission(pred_dir: str, dataset: str, test_root: str, out: str,
                    conditions: Optional[Sequence[str]] = None,
                    invalid_below: Optional[float] = None,
                    constant_confidence: bool = False) -> PackReport:
    """Check ``pred_dir`` against the test images below ``test_root`` and
    write the server's zip to ``out`` (atomically).

    Args:
        pred_dir: train-id PNGs named ``<image stem>.png`` (see
            :mod:`.predictions`), with ``confidence/`` for Dark Zurich.
        dataset: ``'darkzurich'``, ``'acdc'`` or ``'cityscapes'``.
        test_root: the dataset folder holding the test images
            (``rgb_anon/test/night``, ``rgb_anon/<condition>/test``,
            ``leftImg8bit/test``).
        out: the zip to write (``.zip``).
        conditions: ACDC only: pack these conditions (default: every
            condition with a test folder), e.g. ``['night']``.
        invalid_below: Dark Zurich: in ``labelTrainIds_invalid`` mark
            pixels whose confidence is below this value (0-1) invalid
            (255); default None marks none, so that folder equals
            ``labelTrainIds`` (UIoU = IoU on the submission).
        constant_confidence: Dark Zurich without confidence maps: write
            confidence 1.0 everywhere instead of refusing (the server's
            average UIoU is then meaningless).

    Returns:
        :class:`PackReport`.

    Raises:
        SubmissionError: a missing, extra or duplicate prediction, a
            prediction of another size, a colour or label-id PNG, missing
            confidence maps, or a bad option; nothing is written.
    """
    server = get_server(dataset)
    if not out.endswith('.zip'):
        raise SubmissionError(f'--out {out}: the servers take a .zip file')
    if server.key != 'darkzurich' and (invalid_below is not None
                                       or constant_confidence):
        raise SubmissionError('--invalid-below and --constant-confidence '
                              'apply to Dark Zurich only')
    if invalid_below is not None and not 0 <= invalid_below <= 1:
        raise SubmissionError(f'--invalid-below {invalid_below}: a '
                              'confidence between 0 and 1')
    images = test_images(server, test_root, conditions)
    pred_paths, conf_paths = match_predictions(images, pred_dir)
    conf_kind = 'none'
    if server.key == 'darkzurich':
        _check_confidence(images, conf_paths, pred_dir, constant_confidence,
                          invalid_below)
        conf_kind = 'network' if conf_paths else 'constant'
    check_sizes(images, pred_paths, conf_paths)
    files = _write_zip(out, server, images, pred_paths, conf_paths,
                       constant_confidence, invalid_below)
    per_condition = len({i.arcdir.split(os.sep)[0] for i in images}) \
        if server.key == 'acdc' else 1
    return PackReport(out, len(images), files, conf_kind,
                      server.official_count * per_condition)


def _check_confidence(images: Sequence[TestImage],
                      conf_paths: Dict[str, str], pred_dir: str,
                      constant: bool, invalid_below: Optional[float]) -> None:
    missing: List[str] = [i.name for i in images if i.name not in conf_paths]
    if conf_paths and missing:
        raise SubmissionError(
            f'{osp.join(pred_dir, "confidence")}: no confidence map for '
            f'{len(missing)} test image(s), e.g. {missing[0]}')
    if conf_paths and constant:
        raise SubmissionError('--constant-confidence: the predictions have '
                              'confidence maps; leave it out to pack them')
    if not conf_paths and not constant:
        raise SubmissionError(
            f'{pred_dir}: no confidence/ folder; Dark Zurich scores a '
            'confidence map per image: write them with tools/test.py '
            '--format-only --eval-option confidence=True (or pass '
            f'--constant-confidence to send {CONFIDENCE_SCALE} everywhere)')
    if not conf_paths and invalid_below is not None:
        raise SubmissionError('--invalid-below needs the network\'s '
                              'confidence maps')
