"""``host_allocator``: freed host memory kept for reuse ('retain', the
default) or glibc's defaults ('system'); checked config value; what
tools/benchmark.py reports."""
import json
import os.path as osp
import subprocess
import sys

import pytest
from mmengine import Config

from mmseg.engine.build import host_allocator_from
from mmseg.errors import ConfigError
from mmseg.utils.host_allocator import (KEEP_ALL_FREED, M_MMAP_MAX,
                                        M_TRIM_THRESHOLD,
                                        configure_host_allocator, glibc)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


class FakeLibc:
    """Records ``mallopt`` calls; returns ``result`` (glibc: 1 = success)."""

    def __init__(self, result: int = 1) -> None:
        self.calls = []
        self.result = result

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return self.result


def test_retain_turns_off_per_block_mmap_and_trimming():
    libc = FakeLibc()
    assert configure_host_allocator('retain', libc) is True
    assert libc.calls == [(M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, KEEP_ALL_FREED)]
    assert (M_MMAP_MAX, M_TRIM_THRESHOLD) == (-4, -1)  # glibc <malloc.h>
    assert KEEP_ALL_FREED == 2**31 - 1  # mallopt takes a C int


def test_system_leaves_the_allocator_alone():
    libc = FakeLibc()
    assert configure_host_allocator('system', libc) is False
    assert libc.calls == []


def test_a_refused_mallopt_is_reported():
    assert configure_host_allocator('retain', FakeLibc(result=0)) is False


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match=r"got 'keep'"):
        configure_host_allocator('keep', FakeLibc())


def test_config_value_default_and_refusal():
    assert host_allocator_from(Config(dict())) == 'retain'
    assert host_allocator_from(Config(dict(host_allocator='system'))) == \
        'system'
    with pytest.raises(ConfigError, match='host_allocator must be one of'):
        host_allocator_from(Config(dict(host_allocator=True)))


@pytest.mark.skipif(glibc() is None, reason='needs glibc (Linux)')
def test_retain_applies_to_this_glibc_and_keeps_results():
    # a fresh interpreter: the setting is process-wide
    code = (
        'import torch\n'
        'from mmseg.utils.host_allocator import configure_host_allocator\n'
        'torch.manual_seed(0)\n'
        'x = torch.randn(64, 1024, 1024)\n'  # 256 MiB: above mmap threshold
        'before = (x * 2).sum().item()\n'
        'assert configure_host_allocator("retain")\n'
        'after = (x * 2).sum().item()\n'
        'assert before == after, (before, after)\n'
        'print("ok")\n')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == 'ok'


def test_benchmark_reports_the_policy(capsys):
    import tools.benchmark as benchmark
    config = osp.join(ROOT, 'configs', 'toy', 'toy_dacs_daformer_mitb0.py')
    fast = ['--iters', '1', '--warmup', '0', '--device', 'cpu', '--batch',
            '1', '--crop', '32', '32']
    report = benchmark.main([config, *fast, '--cfg-options',
                             'toy_pretrained=None', 'host_allocator=system'])
    assert report['host_allocator'] == 'system'
    assert report['host_allocator_applied'] is False
    printed = json.loads(capsys.readouterr().out)  # stdout: the JSON alone
    assert printed['host_allocator'] == 'system'


def test_train_refuses_an_unknown_policy_before_building(tmp_path):
    import tools.train as train
    config = osp.join(ROOT, 'configs', 'toy', 'toy_dacs_daformer_mitb0.py')
    with pytest.raises(ConfigError, match=r"host_allocator must be one of "
                       r"\['retain', 'system'\], got 'fast'"):
        train.main([config, '--work-dir', str(tmp_path / 'run'),
                    '--cfg-options', 'host_allocator=fast'])
    assert not (tmp_path / 'run').exists()  # nothing written


def test_test_py_refuses_an_unknown_policy_before_creating_outputs(
        tmp_path):
    import tools.test as test_tool
    config = osp.join(ROOT, 'configs', 'toy', 'toy_dacs_daformer_mitb0.py')
    show_dir = tmp_path / 'show'
    with pytest.raises(ConfigError, match='host_allocator must be one of'):
        test_tool.main([config, str(tmp_path / 'missing.pth'), '--eval',
                        'mIoU', '--show-dir', str(show_dir),
                        '--cfg-options', 'host_allocator=fast'])
    assert not show_dir.exists()
