"""Tiny toy configs and checkpoints for the inference API, its demos and
``tools/test.py`` (no training: random networks saved as a training run
saves them)."""
import os.path as osp

import torch

from e2e_config import write_tiny_config


def toy_config(tmp_dir: str, toy_config: str, root: str) -> str:
    """A tiny config of ``configs/toy/<toy_config>`` whose toy data set
    (under ``root``) is generated; EGLP's prototype encoder starts random."""
    from mmseg.config import load_config
    from mmseg.engine.toy_assets import prepare_toy_assets
    extra = ('uda = dict(dms=dict(similarity=dict(prototype=dict('
             'encoder=dict(pretrained=None)))))\n'
             if 'eglp' in toy_config else '')
    path = write_tiny_config(tmp_dir, toy_config, root, extra=extra)
    prepare_toy_assets(load_config(path))
    return path


def _perturb(module: torch.nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g))


def training_checkpoint(config: str, out: str) -> str:
    """A checkpoint as a training run writes it (the whole UDA module under
    ``state_dict``), with teacher(s) different from the student and, for
    EGLP, an EMA class similarity for the fusion."""
    from mmseg.apis.deploy import without_pretrained
    from mmseg.engine.build import model_cfg_from
    from mmseg.config import load_config
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules()
    torch.manual_seed(0)
    uda = MODELS.build(without_pretrained(model_cfg_from(load_config(config))))
    uda.init_weights()
    if getattr(uda, "teacher", None) is not None:
        _perturb(uda.teacher.model, 1)
    if hasattr(uda, 'nf_teacher'):
        _perturb(uda.nf_teacher.model, 2)
        sim = uda.dms.similarity
        sim.seen[[0, 2, 8, 10]] = True
        sim.similarity[[0, 2, 8, 10]] = torch.tensor([0.9, 0.2, 0.5, 0.1])
    torch.save(dict(state_dict=uda.state_dict(), meta=dict(iter=4)), out)
    return out


def val_images(root: str):
    """The labelled night val images of the tiny toy set (what
    ``tools/test.py`` evaluates), sorted."""
    import glob
    return sorted(glob.glob(osp.join(root, 'dark_zurich', 'rgb_anon', 'val',
                                     '**', '*.png'), recursive=True))
