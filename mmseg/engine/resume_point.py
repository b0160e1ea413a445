"""Which checkpoint a resume starts from, and whether it can.

``--resume`` (``resume=True``) reads the work dir's ``last_checkpoint``
pointer. mmengine logs "Auto resumed from the latest checkpoint None." and
trains from scratch when there is none; here that is an error, as is a
pointer naming a file that no longer exists (the message names the newest
checkpoint that does). A resume needs a training checkpoint: a published
or released segmentor has no iteration or optimiser state and is refused
with the flag that initialises from it instead.
"""
import glob
import os.path as osp
import re
from typing import Any, Dict

from mmseg.utils.checkpoint_io import CheckpointLoadError

POINTER = 'last_checkpoint'
TRAINING_KEYS = ('meta', 'state_dict', 'optimizer')


def newest_iter_checkpoint(work_dir: str) -> str:
    """The ``iter_N.pth`` of ``work_dir`` with the largest N, or ''."""
    found = []
    for path in glob.glob(osp.join(work_dir, 'iter_*.pth')):
        match = re.fullmatch(r'iter_(\d+)\.pth', osp.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return max(found)[1] if found else ''


def latest_checkpoint(work_dir: str) -> str:
    """The checkpoint ``work_dir/last_checkpoint`` names.

    Raises :class:`CheckpointLoadError` when there is no pointer, or it
    names a missing file.
    """
    pointer = osp.join(work_dir, POINTER)
    newest = newest_iter_checkpoint(work_dir)
    remedy = (f'; resume with --resume-from {newest}' if newest else
              '; train without --resume to start anew')
    if not osp.isfile(pointer):
        raise CheckpointLoadError(
            f'--resume: {work_dir} has no {POINTER} file, so there is '
            f'nothing to resume{remedy}')
    with open(pointer) as f:
        target = f.read().strip()
    if not target or not osp.isfile(target):
        raise CheckpointLoadError(
            f'--resume: {pointer} names {target or "nothing"}, which does '
            f'not exist{remedy}')
    return target


def require_training_checkpoint(checkpoint: Dict[str, Any],
                                filename: str) -> None:
    """Raise unless ``checkpoint`` holds what a resume restores."""
    missing = [k for k in TRAINING_KEYS if k not in checkpoint]
    meta = checkpoint.get('meta')
    if not missing and not (isinstance(meta, dict) and 'iter' in meta):
        missing = ['meta.iter']
    if missing:
        raise CheckpointLoadError(
            f'{filename} is not a training checkpoint (no '
            f'{", ".join(missing)}), so a run cannot resume from it; use '
            f'--load-from {filename} to initialise the weights from it')
