"""Test-server submissions: the zip each evaluation server takes
(``tools/pack_submission.py``, ``tools/test.py --eval-option pack=...``)."""
from .confidence import (CONFIDENCE_SCALE, read_confidence_png,
                         save_confidence_png)
from .pack import PackReport, pack_submission
from .servers import SERVERS, SubmissionError, get_server, test_images

__all__ = [
    'CONFIDENCE_SCALE', 'PackReport', 'SERVERS', 'SubmissionError',
    'get_server', 'pack_submission', 'read_confidence_png',
    'save_confidence_png', 'test_images', 'dataset_key'
]

# dataset class -> --dataset of the server that scores its test split
DATASET_KEYS = {
    'DarkZurichDataset': 'darkzurich',
    'ACDCDataset': 'acdc',
    'CityscapesDataset': 'cityscapes',
}


def dataset_key(dataset_type: str) -> str:
    """``'DarkZurichDataset'`` -> ``'darkzurich'``.

    Raises:
        SubmissionError: no public server scores that dataset.
    """
    if dataset_type not in DATASET_KEYS:
        raise SubmissionError(
            f'{dataset_type}: no evaluation server to pack for (packing '
            f'knows {", ".join(DATASET_KEYS)})')
    return DATASET_KEYS[dataset_type]
