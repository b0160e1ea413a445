"""Values a key cannot take, refused before anything is built: a count of
iterations, images or workers below its minimum, a probability or fraction
outside [0, 1].

The rules go by the key's last name (``runner.max_iters``,
``uda.mix_augmenters.0.prob``), so they hold wherever the key sits.
"""
from numbers import Real
from typing import Any, Optional

# last name -> the smallest value it takes (whole numbers)
COUNTS = {
    'max_iters': 1,  # runner.max_iters
    'interval': 1,  # evaluation, checkpoint_config, log_config
    'samples_per_gpu': 1,
    'workers_per_gpu': 0,
    'warmup_iters': 0,
    'img_interval': 0,  # 0: no debug images
    'ramp_iters': 0,
}

# last names of probabilities and fractions, in [0, 1]; so is any name
# ending in ``_prob``
FRACTIONS = frozenset({
    'prob', 'mask_ratio', 'cat_max_ratio', 'min_crop_ratio',
    'pseudo_threshold', 'mask_pseudo_threshold', 'alpha', 'mask_alpha',
    'ema', 'freq_momentum', 'ema_momentum', 'warmup_ratio', 'dropout_ratio',
    'color_jitter_probability'})


def value_problem(key: str, value: Any) -> Optional[str]:
    """Why ``key`` cannot take ``value`` (a phrase), or None if it can.

    Only numbers are judged: ``None``, strings (``mask_alpha='same'``) and
    lists pass, as do keys without a rule.
    """
    name = key.split('.')[-1]
    if name in COUNTS:
        least = COUNTS[name]
        if isinstance(value, bool) or isinstance(value, Real) and (
                not float(value).is_integer() or value < least):
            return f'expected a whole number >= {least}'
    elif name in FRACTIONS or name.endswith('_prob'):
        if isinstance(value, bool):
            return 'expected a number in [0, 1]'
        if isinstance(value, Real) and not 0 <= value <= 1:
            return 'expected a number in [0, 1] (a probability or fraction)'
    return None
