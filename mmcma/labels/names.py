"""Class names: their words, their rows in files, knowledge-base entries.

:func:`name_words` splits a class name into the words vectors are looked up
by; :func:`class_rows` matches the class names stored in a file to a
dataset's. Knowledge-base entries (ConceptNet terms, WordNet synsets):

A dataset's class names are not always the knowledge base's words: VOC
writes ``'diningtable'``, COCO's ``'mouse'`` is the computer mouse and its
``'tv'`` the set. The maps below are the defaults for PASCAL VOC and MS COCO;
a user map (``synonyms=`` for ConceptNet, ``synsets=`` for WordNet) replaces
entries by class name. Names not in a map go through
:func:`name_words` (lower case, split at spaces
and underscores), as the GloVe label vectors do, and are joined with ``_``,
the spelling of multi-word entries in both knowledge bases
(``'traffic light'`` -> ``traffic_light``).
"""
import re
from typing import Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from ..io import InputFileError


def name_words(name: str,
               synonyms: Optional[Mapping[str, str]] = None) -> List[str]:
    """The lower-case words a class name is looked up by.

    Args:
        name (str): A class name, e.g. ``'traffic light'``.
        synonyms (Mapping[str, str], optional): Class name -> the words to
            use instead, e.g. ``{'diningtable': 'dining table'}``.

    Returns:
        list[str]: E.g. ``['traffic', 'light']``.

    Raises:
        ValueError: The name (or its synonym) has no words.
    """
    phrase = (synonyms or {}).get(name, name)
    words = [w for w in re.split(r'[\s_]+', str(phrase).lower()) if w]
    if not words:
        raise ValueError(f'class name {name!r} has no words to look up')
    return words


def class_rows(path: str, stored: np.ndarray,
               classes: Sequence[str]) -> np.ndarray:
    """Row of ``path``'s array for each of ``classes``, matched by name.

    Raises:
        InputFileError: The names stored in ``path`` are not those of
            ``classes`` (in any order), listing the differences.
    """
    stored = [str(c) for c in np.asarray(stored).reshape(-1)]
    wanted = [str(c) for c in classes]
    if len(set(stored)) != len(stored):
        raise InputFileError(f'{path}: its class names repeat')
    missing = [c for c in wanted if c not in stored]
    extra = [c for c in stored if c not in wanted]
    if missing or extra:
        raise InputFileError(
            f'{path}: made for other classes: the data\'s {missing[:10]} '
            f'are not in it, its {extra[:10]} are not in the data')
    row = {name: i for i, name in enumerate(stored)}
    return np.array([row[c] for c in wanted], dtype=np.int64)


#: The 80 MS COCO category names, in category-id order.
COCO_CLASSES = (
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train',
    'truck', 'boat', 'traffic light', 'fire hydrant', 'stop sign',
    'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
    'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella',
    'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard',
    'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard',
    'surfboard', 'tennis racket', 'bottle', 'wine glass', 'cup', 'fork',
    'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
    'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair',
    'couch', 'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop',
    'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
    'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
    'teddy bear', 'hair drier', 'toothbrush')

#: ConceptNet terms of VOC and COCO names whose own spelling is missing
#: from ConceptNet, ambiguous, or has a more common spelling there. A class
#: with several terms is linked by the strongest relation of any of them.
CONCEPTNET_TERMS: Dict[str, List[str]] = {
    # PASCAL VOC
    'aeroplane': ['aeroplane', 'airplane'],
    'diningtable': ['dining_table'],
    'motorbike': ['motorbike', 'motorcycle'],
    'pottedplant': ['potted_plant', 'houseplant'],
    'tvmonitor': ['television', 'tv', 'tv_monitor'],
    # MS COCO
    'airplane': ['airplane', 'aeroplane'],
    'motorcycle': ['motorcycle', 'motorbike'],
    'sports ball': ['ball'],
    'skis': ['ski'],
    'baseball glove': ['baseball_glove', 'baseball_mitt'],
    'tennis racket': ['tennis_racket', 'tennis_racquet'],
    'donut': ['donut', 'doughnut'],
    'couch': ['couch', 'sofa'],
    'potted plant': ['potted_plant', 'houseplant'],
    'tv': ['tv', 'television'],
    'mouse': ['computer_mouse'],
    'remote': ['remote_control'],
    'keyboard': ['computer_keyboard', 'keyboard'],
    'cell phone': ['cell_phone', 'mobile_phone', 'cellphone'],
    'hair drier': ['hair_drier', 'hair_dryer'],
}

#: WordNet 3.0 noun synsets of VOC and COCO names whose first noun sense
#: is not the pictured object (or that WordNet lacks).
WORDNET_SYNSETS: Dict[str, str] = {
    # PASCAL VOC
    'diningtable': 'dining_table.n.01',
    'motorbike': 'motorcycle.n.01',  # first sense: minibike
    'pottedplant': 'pot_plant.n.01',
    'tvmonitor': 'television_receiver.n.01',
    # MS COCO
    'stop sign': 'street_sign.n.01',  # no stop sign in WordNet
    'sports ball': 'ball.n.01',
    'kite': 'kite.n.03',  # first sense: a fraudulent bank check
    'wine glass': 'goblet.n.01',  # "a drinking glass with a base and stem"
    'banana': 'banana.n.02',  # the fruit, not the plant
    'broccoli': 'broccoli.n.02',  # the flower heads, not the plant
    'hot dog': 'hotdog.n.02',  # first sense: a show-off
    'cake': 'cake.n.03',  # first sense: a block of soap or wax
    'potted plant': 'pot_plant.n.01',
    'toilet': 'toilet.n.02',  # the fixture, not the room
    'tv': 'television_receiver.n.01',  # first sense: broadcasting
    'mouse': 'mouse.n.04',  # the computer mouse, not the rodent
    'keyboard': 'computer_keyboard.n.01',
    'cell phone': 'cellular_telephone.n.01',
    'microwave': 'microwave.n.02',  # the oven, not the wave
    'toaster': 'toaster.n.02',  # first sense: a person proposing a toast
    'book': 'book.n.02',  # the physical object
}

#: A class name -> one term or several.
Synonyms = Mapping[str, Union[str, Sequence[str]]]


def knowledge_terms(name: str,
                    synonyms: Optional[Synonyms] = None,
                    defaults: Optional[Synonyms] = None) -> List[str]:
    """The knowledge-base entries a class name stands for.

    Args:
        name (str): A class name, e.g. ``'traffic light'``.
        synonyms (Mapping, optional): User map, class name -> term(s);
            replaces ``defaults`` for the names it lists.
        defaults (Mapping, optional): Default map (e.g.
            :data:`CONCEPTNET_TERMS`).

    Returns:
        list[str]: Lower-case entries with ``_`` between words, e.g.
        ``['traffic_light']``, in the given order, without repeats.

    Raises:
        ValueError: A name or term without words.
    """
    mapped = {**dict(defaults or {}), **dict(synonyms or {})}.get(name, name)
    phrases = [mapped] if isinstance(mapped, str) else list(mapped)
    if not phrases:
        raise ValueError(f'class name {name!r} is mapped to no term')
    terms = ['_'.join(name_words(phrase)) for phrase in phrases]
    return list(dict.fromkeys(terms))
