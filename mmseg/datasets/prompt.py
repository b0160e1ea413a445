"""The few labelled night "prompt" images of EGLP/PIG: ``data/prompt/img/
X.png`` with ``data/prompt/gt/X_labelTrainIds.png``."""
from mmseg.registry import DATASETS
from .cityscapes import CityscapesDataset


@DATASETS.register_module()
class PromptDataset(CityscapesDataset):
    """Labelled prompt images; the suffixes are arguments (e.g.
    ``img_suffix='_rgb_anon.png'`` for prompts copied from ACDC)."""

    def __init__(self, img_dir: str = 'img', ann_dir: str = 'gt',
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '_labelTrainIds.png',
                 **kwargs) -> None:
        super().__init__(img_dir=img_dir, ann_dir=ann_dir,
                         img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)
