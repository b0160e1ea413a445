import os

import pytest
import torch

torch.set_num_threads(int(os.environ.get('TEST_TORCH_THREADS', '1')))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)

# tests import the repository's tools/ scripts and small shared helpers
import sys  # noqa: E402
import os.path as osp  # noqa: E402

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
