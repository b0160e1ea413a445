"""An infinite sampler that yields ``(index, sample_seed)`` pairs.

Sample number ``k`` of the global stream (over all ranks) has the index at
position ``k % N`` of the permutation of epoch ``k // N`` and the seed
``hash(seed, k)``; rank ``r`` of ``w`` takes ``k = r, r + w, r + 2w, ...``.
So a sample depends only on ``(seed, k)``, whatever the worker count, and
``set_start(n)`` resumes a stream in O(N) without loading data.
"""
from typing import Iterator, Optional, Sized, Tuple

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed

from mmseg.registry import DATA_SAMPLERS


def sample_seed(seed: int, k: int) -> int:
    """The seed of sample ``k`` of a stream seeded with ``seed``."""
    state = np.random.SeedSequence([seed, k]).generate_state(2, np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1


@DATA_SAMPLERS.register_module()
class SeededInfiniteSampler:
    """Endless ``(index, sample_seed)`` pairs for one rank.

    Args:
        dataset: the dataset (only its length is used).
        shuffle: a fresh permutation per epoch, else ``0..N-1`` in order.
        seed: base seed; ``None`` draws one shared by all ranks.
    """

    def __init__(self, dataset: Sized, shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.size = len(dataset)
        if self.size == 0:
            raise ValueError('SeededInfiniteSampler got an empty dataset')
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.start = 0
        self._epoch_cache: Tuple[int, Optional[np.ndarray]] = (-1, None)

    def set_start(self, n: int) -> None:
        """Skip the first ``n`` samples of this rank (e.g. ``iteration *
        batch size per GPU`` when resuming)."""
        if n < 0:
            raise ValueError(f'set_start needs n >= 0, got {n}')
        self.start = int(n)

    def set_epoch(self, epoch: int) -> None:
        """No-op: the stream is infinite (kept for runner compatibility)."""

    def _order(self, epoch: int) -> np.ndarray:
        if self._epoch_cache[0] != epoch:
            order = (np.random.default_rng([self.seed, epoch]).permutation(
                self.size) if self.shuffle else np.arange(self.size))
            self._epoch_cache = (epoch, order)
        return self._epoch_cache[1]

    def global_position(self, i: int) -> int:
        """Global stream position of this rank's ``i``-th sample."""
        return i * self.world_size + self.rank

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        i = self.start
        while True:
            k = self.global_position(i)
            epoch, pos = divmod(k, self.size)
            yield int(self._order(epoch)[pos]), sample_seed(self.seed, k)
            i += 1

    def __len__(self) -> int:
        return self.size
