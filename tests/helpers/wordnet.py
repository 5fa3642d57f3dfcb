"""WordNet for the knowledge-graph tests, or a skip that says why not."""
import importlib.util

import pytest

from mmcma.labels.knowledge import wordnet_data


def wordnet_or_skip():
    if importlib.util.find_spec('nltk') is None:
        pytest.skip('nltk is not installed (pip install nltk)')
    try:
        return wordnet_data.load_wordnet()
    except FileNotFoundError as e:
        pytest.skip(f'no WordNet database: {e}')
