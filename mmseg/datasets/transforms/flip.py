"""Random horizontal / vertical flip."""
import numpy as np

from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomFlip:
    """Flip the image and all seg fields with probability ``prob``.

    The draw is made from ``results['rng']`` only when ``0 < prob < 1``, so
    ``prob=0`` (test pipelines) consumes no randomness.
    """

    def __init__(self, prob: float = 0.5,
                 direction: str = 'horizontal') -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'flip prob must be in [0, 1], got {prob}')
        if direction not in ('horizontal', 'vertical'):
            raise ValueError(f'unknown flip direction {direction!r}')
        self.prob = prob
        self.direction = direction

    def __call__(self, results: dict) -> dict:
        if 0 < self.prob < 1:
            flip = bool(results['rng'].random() < self.prob)
        else:
            flip = self.prob == 1
        results['flip'] = flip
        results['flip_direction'] = self.direction
        if flip:
            axis = 1 if self.direction == 'horizontal' else 0
            results['img'] = np.flip(results['img'], axis=axis)
            for key in results.get('seg_fields', []):
                results[key] = np.flip(results[key], axis=axis)
        return results
