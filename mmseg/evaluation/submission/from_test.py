"""The submission options of ``tools/test.py --format-only --eval-option
pack=FILE.zip [confidence=True]``, checked before any inference.

``pack`` packs the written PNGs for the server of the evaluated dataset
(its class picks the server, its ``data_root`` is the test tree, ACDC's
``condition`` the conditions) once every image is written; it writes train
ids (``to_label_id`` defaults to False; the packer converts to label ids for
Cityscapes) and, for Dark Zurich, the network's confidence maps.
``confidence=True`` writes the 16-bit confidence maps to
``<imgfile_prefix>/confidence/`` without packing.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from .servers import SubmissionError


@dataclass(frozen=True)
class SubmissionRequest:
    """What ``tools/test.py`` writes for a submission.

    Attributes:
        confidence: write ``<prefix>/confidence/<name>.png``.
        pack: the zip to write after the predictions, or None.
        dataset: the server key (with ``pack``).
        test_root: the dataset folder (with ``pack``).
        conditions: ACDC conditions to pack, or None for all.
    """
    confidence: bool = False
    pack: Optional[str] = None
    dataset: Optional[str] = None
    test_root: Optional[str] = None
    conditions: Optional[Sequence[str]] = None


def _flag(options: Mapping[str, Any], key: str, default: bool) -> bool:
    value = options.get(key, default)
    if isinstance(value, str):
        if value.lower() not in ('true', 'false'):
            raise SubmissionError(f'--eval-option {key}={value}: True or '
                                  'False')
        return value.lower() == 'true'
    return bool(value)


def submission_request(options: Mapping[str, Any],
                       dataset_cfg: Mapping[str, Any],
                       format_only: bool) -> SubmissionRequest:
    """Read ``confidence`` and ``pack`` of ``--eval-option``.

    Raises:
        SubmissionError: ``pack``/``confidence`` without ``--format-only``,
            ``pack`` with ``to_label_id=True``, a ``pack`` path that is no
            ``.zip``, or a dataset no server scores.
    """
    pack = options.get('pack')
    confidence = _flag(options, 'confidence', False)
    if (pack or confidence) and not format_only:
        raise SubmissionError('--eval-option pack=/confidence= need '
                              '--format-only')
    if not pack:
        return SubmissionRequest(confidence=confidence)
    pack = str(pack)
    if not pack.endswith('.zip'):
        raise SubmissionError(f'--eval-option pack={pack}: the servers '
                              'take a .zip file')
    if _flag(options, 'to_label_id', False):
        raise SubmissionError(
            '--eval-option pack= needs train-id PNGs: leave out '
            'to_label_id=True (the packer writes label ids for Cityscapes)')
    from . import dataset_key
    dataset = dataset_key(str(dataset_cfg.get('type')))
    root = dataset_cfg.get('data_root')
    if not root:
        raise SubmissionError('--eval-option pack=: the test dataset config '
                              'has no data_root (the test tree to check the '
                              'predictions against)')
    condition = dataset_cfg.get('condition')
    conditions = [condition] if isinstance(condition, str) else (
        list(condition) if condition else None)
    return SubmissionRequest(confidence=confidence or dataset == 'darkzurich',
                             pack=pack, dataset=dataset,
                             test_root=osp.normpath(str(root)),
                             conditions=conditions)
