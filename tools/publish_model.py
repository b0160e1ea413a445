"""Strip a training checkpoint down to the student segmentor for release.

    python tools/publish_model.py work_dirs/run/iter_40000.pth out.pth

Keeps only the student (``model.*`` keys, written without the prefix) and
drops the optimiser, schedulers, message hub, teachers, the ImageNet model and
plug-in state; appends the first 8 hex digits of the file's SHA-256 to the
output name, as MMSegmentation does. Only that file is written: the input
and a file named ``out.pth`` are never replaced.
"""
import argparse
import hashlib
import io
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

from mmseg.utils.checkpoint_io import (CheckpointLoadError,  # noqa: E402
                                       atomic_write_bytes, extract_state_dict,
                                       load_checkpoint_file)
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402

STUDENT_PREFIX = 'model.'


def student_state_dict(state_dict: dict) -> dict:
    """The student's weights of a UDA (or plain) state dict."""
    if not any(k.startswith(STUDENT_PREFIX) for k in state_dict):
        return {k: v for k, v in state_dict.items() if k != '_extra_state'}
    n = len(STUDENT_PREFIX)
    return {k[n:]: v for k, v in state_dict.items()
            if k.startswith(STUDENT_PREFIX)}


def published_name(out_file: str, data: bytes) -> str:
    """``out.pth`` -> ``out-<first 8 hex digits of sha256(data)>.pth``."""
    stem, ext = osp.splitext(out_file)
    return f'{stem}-{hashlib.sha256(data).hexdigest()[:8]}{ext or ".pth"}'


def publish(in_file: str, out_file: str, trusted: bool = False) -> str:
    """Write the student of ``in_file`` to ``out-<sha>.pth`` and return that
    path. Nothing else is written or replaced: not ``out_file`` itself, and
    never ``in_file`` (refused with :class:`CheckpointLoadError`)."""
    checkpoint = load_checkpoint_file(in_file, trusted=trusted)
    state = student_state_dict(extract_state_dict(checkpoint, in_file))
    meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
    slim = {'state_dict': state,
            'meta': {k: meta[k] for k in ('cfg', 'dataset_meta', 'iter')
                     if k in meta}}
    buffer = io.BytesIO()
    torch.save(slim, buffer)
    data = buffer.getvalue()
    final = published_name(out_file, data)
    if osp.exists(final) and osp.samefile(final, in_file):
        raise CheckpointLoadError(
            f'{final} is the input checkpoint {in_file}; choose another '
            'output name')
    atomic_write_bytes(data, final)
    return final


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('in_file')
    parser.add_argument('out_file')
    parser.add_argument('--trust-checkpoint', action='store_true')
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    from mmseg.utils.cli import ensure_output_dir
    ensure_output_dir(osp.dirname(osp.abspath(args.out_file)),
                      'out_file folder')
    final = publish(args.in_file, args.out_file, args.trust_checkpoint)
    print(f'published {final}')
    return final


if __name__ == '__main__':
    sys.exit(run_cli(main))
