"""Strip a training checkpoint down to the student segmentor for release.

    python tools/publish_model.py work_dirs/run/iter_40000.pth out.pth

Keeps only the student (``model.*`` keys, written without the prefix) and
drops the optimiser, schedulers, message hub, teachers, the ImageNet model and
plug-in state; appends the first 8 hex digits of the file's SHA-256 to the
output name, as MMSegmentation does.
"""
import argparse
import hashlib
import os
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg.utils.checkpoint_io import (atomic_torch_save,  # noqa: E402
                                       extract_state_dict,
                                       load_checkpoint_file)

STUDENT_PREFIX = 'model.'


def student_state_dict(state_dict: dict) -> dict:
    """The student's weights of a UDA (or plain) state dict."""
    if not any(k.startswith(STUDENT_PREFIX) for k in state_dict):
        return {k: v for k, v in state_dict.items() if k != '_extra_state'}
    n = len(STUDENT_PREFIX)
    return {k[n:]: v for k, v in state_dict.items()
            if k.startswith(STUDENT_PREFIX)}


def publish(in_file: str, out_file: str, trusted: bool = False) -> str:
    checkpoint = load_checkpoint_file(in_file, trusted=trusted)
    state = student_state_dict(extract_state_dict(checkpoint, in_file))
    meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
    slim = {'state_dict': state,
            'meta': {k: meta[k] for k in ('cfg', 'dataset_meta', 'iter')
                     if k in meta}}
    atomic_torch_save(slim, out_file)
    with open(out_file, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:8]
    stem, ext = osp.splitext(out_file)
    final = f'{stem}-{digest}{ext or ".pth"}'
    os.replace(out_file, final)
    return final


def main(argv: Optional[List[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('in_file')
    parser.add_argument('out_file')
    parser.add_argument('--trust-checkpoint', action='store_true')
    args = parser.parse_args(argv)
    from mmseg.utils.cli import ensure_output_dir
    ensure_output_dir(osp.dirname(osp.abspath(args.out_file)),
                      'out_file folder')
    final = publish(args.in_file, args.out_file, args.trust_checkpoint)
    print(f'published {final}')
    return final


if __name__ == '__main__':
    from mmseg.utils.cli import run_cli
    sys.exit(run_cli(main))
