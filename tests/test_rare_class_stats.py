"""Rare class sampling with stats that do not fit the dataset: Windows
separators, another label suffix, no class at all, unreadable files."""
import json
import os

import numpy as np
import pytest
from PIL import Image

from mmseg.datasets.class_stats import (ClassStatsError, sample_stats,
                                        save_class_stats, stats_file_key)
from mmseg.datasets.rare_class_sampling import (RareClassSampler,
                                                class_probabilities)
from test_uda_dataset import make_source, make_target, uda

FILES = {f's{i}_labelTrainIds.png': i for i in range(6)}


def rewrite_stats(root, edit):
    """Apply ``edit(path) -> path`` to every path of the stats files."""
    for name in ('sample_class_stats.json', 'samples_with_class.json'):
        file = os.path.join(root, name)
        with open(file) as f:
            data = json.load(f)
        if isinstance(data, list):
            for entry in data:
                entry['file'] = edit(entry['file'])
        else:
            data = {c: [[edit(p), n] for p, n in v] for c, v in data.items()}
        with open(file, 'w') as f:
            json.dump(data, f)


def test_stats_file_key_accepts_both_separators():
    assert stats_file_key('C:\\data\\gta\\labels\\1_labelTrainIds.png') == \
        '1_labelTrainIds.png'
    assert stats_file_key('data/gta/labels/1_labelTrainIds.png') == \
        '1_labelTrainIds.png'
    assert stats_file_key('1.png') == '1.png'


def test_stats_written_on_windows_match_the_dataset(tmp_path):
    root = str(tmp_path)
    make_source(root)
    expected = RareClassSampler(root, FILES, min_pixels=4)
    rewrite_stats(root, lambda p: 'D:\\data\\src\\gt\\' + os.path.basename(p))
    sampler = RareClassSampler(root, FILES, min_pixels=4)
    assert sampler.indices_with_class == expected.indices_with_class
    assert sampler.indices_with_class[5] == [0, 3]
    np.testing.assert_array_equal(sampler.probs, expected.probs)


def test_stats_of_another_label_suffix_say_nothing_matches(tmp_path):
    root = str(tmp_path)
    make_source(root)
    rewrite_stats(root, lambda p: p.replace('_labelTrainIds', '_labelIds'))
    with pytest.raises(ClassStatsError) as err:
        RareClassSampler(root, FILES, min_pixels=4)
    msg = str(err.value)
    assert 'none of the 6 files in' in msg and 'samples_with_class.json' in msg
    assert 'of the 6 source labels' in msg
    assert "stats 's0_labelIds.png' vs dataset 's0_labelTrainIds.png'" in msg
    assert 'no source file' not in msg and '\n' not in msg


def test_stats_of_a_subset_of_the_dataset_are_fine(tmp_path):
    root = str(tmp_path)
    make_source(root)
    more = dict(FILES, **{f'extra{i}_labelTrainIds.png': 6 + i
                          for i in range(3)})
    assert RareClassSampler(root, more, min_pixels=4).indices_with_class[
        5] == [0, 3]


def test_stats_without_any_class_fail_clearly_not_in_numpy():
    stats = [{'file': 'a.png'}, {'file': 'b.png'}]
    with pytest.raises(ClassStatsError, match='list no pixel of any class in '
                       '2 entries'):
        class_probabilities(stats, 0.01)
    with pytest.raises(ClassStatsError, match='list no pixel'):
        class_probabilities([], 0.01)


def test_empty_stats_written_by_a_converter_fail_at_dataset_build(tmp_path):
    root = str(tmp_path / 'src')
    make_source(root)
    make_target(str(tmp_path / 'tgt'))
    empty = [sample_stats(np.full((4, 4), 255, np.uint8),
                          f'{root}/gt/s{i}_labelTrainIds.png')
             for i in range(6)]
    with pytest.raises(ClassStatsError, match='refusing to write class '
                       'stats to .* the 6 entries hold no pixel'):
        save_class_stats(root, empty)
    with open(os.path.join(root, 'sample_class_stats.json'), 'w') as f:
        json.dump(empty, f)  # as an older converter wrote them
    with pytest.raises(ClassStatsError) as err:
        uda(tmp_path, rcs=dict(min_pixels=4))
    assert 'sample_class_stats.json list no pixel of any class in 6 ' \
        'entries' in str(err.value)


def test_class_below_min_pixels_reports_counts(tmp_path):
    root = str(tmp_path)
    make_source(root)
    with pytest.raises(ClassStatsError) as err:
        RareClassSampler(root, FILES, min_pixels=16)
    assert ('more than 16 pixels of class 5' in str(err.value)
            and '2 files list the class, 2 of them in the dataset, the '
            'largest with 16 pixels' in str(err.value))


@pytest.mark.parametrize('content,match', [
    ('{"0": [["a.png", 5]', 'is not valid JSON'),
    ('{"0": 1}', 'holds a dict, expected a list'),
    ('[["a.png", 5]]', 'must be a list of'),
])
def test_unreadable_stats_name_the_file(tmp_path, content, match):
    root = str(tmp_path)
    make_source(root)
    with open(os.path.join(root, 'sample_class_stats.json'), 'w') as f:
        f.write(content)
    with pytest.raises(ClassStatsError, match=match) as err:
        RareClassSampler(root, FILES)
    assert 'sample_class_stats.json' in str(err.value)


def test_source_labels_sharing_a_file_name_are_refused(tmp_path):
    root = tmp_path / 'src'
    make_source(str(root))
    make_target(str(tmp_path / 'tgt'))
    os.makedirs(root / 'gt' / 'seq')
    os.makedirs(root / 'img' / 'seq')
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(
        root / 'gt' / 'seq' / 's0_labelTrainIds.png')
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(
        root / 'img' / 'seq' / 's0.png')
    with pytest.raises(ClassStatsError, match="share 's0_labelTrainIds.png'"):
        uda(tmp_path, rcs=dict(min_pixels=4))
