"""Run folders: config dump and latest checkpoint, the Ctrl-C line."""
import os
import os.path as osp
import sys
import types

import pytest

from mmseg.engine.run_dir import (RunDirError, config_dump,
                                  interrupted_message, last_checkpoint,
                                  resolve_run, resume_command)


def _run_dir(tmp_path, pointer=None, iters=(2, 10, 4)):
    run = tmp_path / 'run'
    run.mkdir()
    (run / 'my_config.py').write_text('x = 1\n')
    for i in iters:
        (run / f'iter_{i}.pth').write_bytes(b'')
    if pointer is not None:
        (run / 'last_checkpoint').write_text(pointer)
    return run


def test_last_checkpoint_follows_the_pointer_file(tmp_path):
    run = _run_dir(tmp_path)
    (run / 'last_checkpoint').write_text(str(run / 'iter_4.pth'))
    assert last_checkpoint(str(run)) == str(run / 'iter_4.pth')


def test_moved_run_folder_finds_its_checkpoint_by_name(tmp_path):
    run = _run_dir(tmp_path, pointer='/elsewhere/old_run/iter_4.pth')
    assert last_checkpoint(str(run)) == str(run / 'iter_4.pth')


def test_without_pointer_the_highest_iteration_wins(tmp_path):
    run = _run_dir(tmp_path)
    assert last_checkpoint(str(run)) == str(run / 'iter_10.pth')
    os.remove(run / 'iter_10.pth')
    os.remove(run / 'iter_2.pth')
    os.remove(run / 'iter_4.pth')
    assert last_checkpoint(str(run)) is None


def test_resolve_run_takes_a_work_dir_or_config_and_checkpoint(tmp_path):
    run = _run_dir(tmp_path, pointer='iter_2.pth')
    assert resolve_run(str(run)) == (str(run / 'my_config.py'),
                                     str(run / 'iter_2.pth'))
    assert resolve_run(str(run), 'x.pth') == (str(run / 'my_config.py'),
                                              'x.pth')
    assert resolve_run('a.py', 'b.pth') == ('a.py', 'b.pth')
    with pytest.raises(RunDirError, match='a.py: give a CHECKPOINT'):
        resolve_run('a.py')


def test_folder_without_dump_or_checkpoint_is_named(tmp_path):
    with pytest.raises(RunDirError, match='no config dump'):
        config_dump(str(tmp_path))
    run = _run_dir(tmp_path, iters=())
    with pytest.raises(RunDirError, match=f'{run}: no checkpoint'):
        resolve_run(str(run))


def test_interrupted_message_is_one_line_with_the_resume_command(tmp_path):
    run = _run_dir(tmp_path, pointer='iter_4.pth')
    line = interrupted_message(str(run), types.SimpleNamespace(iter=6))
    assert '\n' not in line
    assert 'iteration 7' in line and str(run / 'iter_4.pth') in line
    assert line.endswith(f'run_experiments.py --resume {run}')
    # the interpreter of this process, not a bare python that may lack
    # the packages
    assert line.split('resume with: ')[1].split()[0] in (
        sys.executable, osp.relpath(sys.executable))
    assert resume_command('a b', python='.venv/bin/python').endswith(
        "run_experiments.py --resume 'a b'")
    assert resume_command('a b', python='.venv/bin/python').startswith(
        '.venv/bin/python ')
    assert 'nothing saved' in interrupted_message(str(run), None)
