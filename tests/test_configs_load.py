"""Every shipped config loads: bases resolve, no unknown or misspelt top-level key."""
import glob
import os.path as osp

import pytest

from mmseg.config import load_config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '/generated/' not in p and '/_base_/' not in p)


def test_configs_are_found():
    assert len(CONFIGS) > 20


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO))
def test_config_loads_with_model_and_data(path):
    cfg = load_config(path)
    assert cfg.get('model') and cfg.get('data'), path
