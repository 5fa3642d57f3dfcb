"""The label matrix of a dataset, read from annotations only."""
import numpy as np
from torch.utils.data import Dataset


def get_label_matrix(dataset: Dataset) -> np.ndarray:
    """Return the (S, N) uint8 multi-hot label matrix of ``dataset``.

    Uses ``dataset.get_label_matrix()`` when the dataset has one (e.g. video
    datasets that index labels without decoding frames); otherwise asks
    ``dataset.get_cat_ids(i)`` for each sample, or reads ``gt_label`` from
    ``dataset.get_data_info(i)`` (mmengine's ``ConcatDataset`` and
    ``RepeatDataset`` wrappers), which datasets answer from their annotation
    list without loading any image.

    Args:
        dataset: A dataset with ``metainfo['classes']`` and either
            ``get_label_matrix()`` or ``get_cat_ids(idx)``.

    Returns:
        np.ndarray: (S, N) matrix of 0/1.
    """
    if hasattr(dataset, 'get_label_matrix'):
        return np.asarray(dataset.get_label_matrix(), dtype=np.uint8)
    if hasattr(dataset, 'get_cat_ids'):
        labels_of = dataset.get_cat_ids
    elif hasattr(dataset, 'get_data_info'):
        def labels_of(i):
            return dataset.get_data_info(i)['gt_label']
    else:
        raise TypeError(
            f'{type(dataset).__name__} provides none of get_label_matrix(), '
            'get_cat_ids(idx), get_data_info(idx): cannot read its labels '
            'without decoding')
    num_classes = len(dataset.metainfo['classes'])
    matrix = np.zeros((len(dataset), num_classes), dtype=np.uint8)
    for i in range(len(dataset)):
        labels = np.asarray(labels_of(i), dtype=np.int64).reshape(-1)
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f'sample {i} of {type(dataset).__name__} has a '
                             f'label outside [0, {num_classes})')
        matrix[i, labels] = 1
    return matrix
