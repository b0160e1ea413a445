"""A training run's folder as users handle it (HRDA's ``test.sh`` style).

A work dir holds the config dump the runner wrote (``<config name>.py``), the
checkpoints (``iter_N.pth``) and ``last_checkpoint``, a text file with the path
of the newest one. These helpers find them and say how to resume a run.
"""
import glob
import os
import os.path as osp
import re
import shlex
import sys
from typing import Any, Optional, Tuple

LAST_CHECKPOINT = 'last_checkpoint'


class RunDirError(ValueError):
    """A folder is not a usable run folder (one line, names the folder)."""


def config_dump(work_dir: str) -> str:
    """The config dump in ``work_dir``: its only ``*.py`` file, else the
    newest one. Raises :class:`RunDirError` when there is none."""
    if not osp.isdir(work_dir):
        raise RunDirError(f'{work_dir}: no such folder')
    dumps = sorted(glob.glob(osp.join(work_dir, '*.py')), key=osp.getmtime)
    if not dumps:
        raise RunDirError(f'{work_dir}: no config dump (*.py) found; is it '
                          'a training work dir?')
    return dumps[-1]


def _iteration(path: str) -> int:
    match = re.fullmatch(r'iter_(\d+)\.pth', osp.basename(path))
    return int(match.group(1)) if match else -1


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint named in ``work_dir/last_checkpoint`` (looked up in
    ``work_dir`` when the run folder was moved), else the ``iter_N.pth`` with
    the highest N, else None."""
    pointer = osp.join(work_dir, LAST_CHECKPOINT)
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        for path in (named, osp.join(work_dir, osp.basename(named))):
            if named and osp.isfile(path):
                return path
    ckpts = sorted(glob.glob(osp.join(work_dir, 'iter_*.pth')), key=_iteration)
    return ckpts[-1] if ckpts else None


def resolve_run(config_or_dir: str,
                checkpoint: Optional[str] = None) -> Tuple[str, str]:
    """``(config, checkpoint)`` from ``tools/test.py``'s positionals: a
    config and a checkpoint, or a work dir (its dump and, unless
    ``checkpoint`` is given, its latest checkpoint)."""
    if not osp.isdir(config_or_dir):
        if checkpoint is None:
            raise RunDirError(f'{config_or_dir}: give a CHECKPOINT after a '
                              'config file, or pass a work dir')
        return config_or_dir, checkpoint
    config = config_dump(config_or_dir)
    checkpoint = checkpoint or last_checkpoint(config_or_dir)
    if checkpoint is None:
        raise RunDirError(f'{config_or_dir}: no checkpoint (no '
                          f'{LAST_CHECKPOINT} file, no iter_*.pth)')
    return config, checkpoint


REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _shown(path: str) -> str:
    """``path`` relative to the current folder when it lies below it."""
    rel = osp.relpath(path)
    return rel if not rel.startswith(os.pardir) else path


def resume_command(work_dir: str, python: Optional[str] = None) -> str:
    """The shell command that resumes the run in ``work_dir``, with the
    interpreter of this process (e.g. ``.venv/bin/python``: a plain
    ``python`` may lack the packages) unless ``python`` is given."""
    python = python or _shown(sys.executable or 'python')
    script = _shown(osp.join(REPO, 'run_experiments.py'))
    return (f'{shlex.quote(python)} {shlex.quote(script)} --resume '
            f'{shlex.quote(work_dir)}')


def interrupted_message(work_dir: str, runner: Any = None) -> str:
    """The one line a run prints when Ctrl-C stops it; ``runner`` is None
    when training had not started (nothing to resume then)."""
    if runner is None:
        return f'interrupted before training started; nothing saved in {work_dir}'
    ckpt = last_checkpoint(work_dir)
    saved = (f'last checkpoint {ckpt}' if ckpt else
             'no checkpoint yet (resuming starts at iteration 0)')
    return (f'interrupted in iteration {runner.iter + 1}; {saved}; resume with: '
            f'{resume_command(work_dir)}')


def next_steps(work_dir: str, cfg: Any = None) -> str:
    """The lines a finished training run prints: how to evaluate its last
    checkpoint and segment images and videos with it (the commands with
    this run's config dump and checkpoint). The image example is the
    config's test split folder when it exists, else ``IMAGES``."""
    python = shlex.quote(_shown(sys.executable or 'python'))
    ckpt = last_checkpoint(work_dir)
    if ckpt is None:
        return f'no checkpoint in {work_dir}'
    config = shlex.quote(_shown(config_dump(work_dir)))
    ckpt = shlex.quote(_shown(ckpt))
    images = 'IMAGES'
    split = ((cfg or {}).get('data') or {}).get('test_set') or {}
    folder = osp.join(split.get('data_root') or '', split.get('img_dir') or '')
    if split.get('img_dir') and osp.isdir(folder):
        images = shlex.quote(_shown(folder))
    demo = shlex.quote(_shown(osp.join(work_dir, 'demo')))
    script = lambda name: shlex.quote(_shown(osp.join(REPO, name)))  # noqa
    return '\n'.join([
        'next steps with this model:',
        f'  evaluate:     {python} {script("tools/test.py")} {config} {ckpt} '
        '--eval mIoU',
        f'  your images:  {python} {script("demo/image_demo.py")} {config} '
        f'{ckpt} {images} --out-dir {demo}',
        f'  a video:      {python} {script("demo/video_demo.py")} {config} '
        f'{ckpt} VIDEO.mp4 --out {demo}.mp4',
        '  (INPUT: image files, folders or globs; overlays with a class '
        'legend are written to --out-dir)'])
