"""A_K from WordNet 3.0 (offline, through nltk).

Each class name is one noun synset: the entry of ``synsets`` (over the VOC
and COCO defaults :data:`~mmcma.labels.names.WORDNET_SYNSETS`), else the
first noun sense of its words joined by ``_`` (``'traffic light'`` ->
``traffic_light.n.01``; nltk's morphology finds ``skis`` -> ``ski``). Two
labels are related, with the weight of the strongest rule that holds
(KSSNet's eq. 1 takes the largest relation weight):

==========================  ===============================  ==============
relation (``relation``)     rule                             weight
==========================  ===============================  ==============
``synonym``                 both names are the same synset   1.0
``hypernym``                one is a direct hypernym (or     ``hypernym_
                            instance hypernym) of the other  weight`` = 1.0
``part_meronym``,           one is a direct part / member /  ``meronym_
``member_meronym``,         substance meronym of the other   weight`` = 0.8
``substance_meronym``       (holonym the other way round)
``common_hypernym:<s>``     their nearest common hypernym    Wu-Palmer
                            ``s`` is at most ``max_steps``   similarity
                            (3) hypernym steps above both,   (nltk), if >=
                            counting the shorter path of     ``min_
                            each                             similarity``
                                                             (0.8)
==========================  ===============================  ==============

On PASCAL VOC the defaults link car-motorbike (motor vehicle), chair-sofa
(seat), bus-train (public transport), cow-sheep (bovid), cat-dog
(carnivore), chair-dining table and sofa-dining table (furniture), and
person-potted plant (organism), and nothing else
(``tests/test_knowledge_graph.py``).
"""
from typing import Dict, Mapping, Optional, Sequence, Tuple

from ...io import InputError, InputOptionError
from .graph_file import EdgeMax, KnowledgeGraph
from ..names import WORDNET_SYNSETS, knowledge_terms
from .wordnet_data import load_wordnet

#: Meronym kinds (nltk's ``<kind>_meronyms``), in order of preference.
MERONYMS = ('part', 'member', 'substance')


def class_synsets(wordnet, classes: Sequence[str],
                  synsets: Optional[Mapping[str, str]] = None) -> list:
    """The noun synset of each class name.

    Raises:
        ValueError: Unknown synset names in the map, or names without a
            noun in WordNet (all listed, with how to map them).
    """
    chosen = {**WORDNET_SYNSETS, **dict(synsets or {})}
    found, problems = [], []
    for name in classes:
        if name in chosen:
            try:
                synset = wordnet.synset(chosen[name])
            except Exception as e:  # nltk raises WordNetError/ValueError
                problems.append(f'{name!r}: synset {chosen[name]!r} not in '
                                f'WordNet ({e})')
                continue
        else:
            lemma = knowledge_terms(name)[0]
            nouns = wordnet.synsets(lemma, pos='n')
            if not nouns:
                problems.append(f'{name!r}: no noun {lemma!r} in WordNet')
                continue
            synset = nouns[0]
        found.append(synset)
    if problems:
        raise InputError(
            'WordNet knowledge graph: ' + '; '.join(problems) + ". Give each "
            "a noun synset with synsets=dict(name='word.n.01')")
    return found


def hypernym_steps(synset) -> Dict[object, int]:
    """Every hypernym (and instance hypernym) ancestor of ``synset`` with
    the fewest steps to it; ``synset`` itself at 0."""
    steps = {synset: 0}
    frontier = [synset]
    while frontier:
        following = []
        for node in frontier:
            for parent in node.hypernyms() + node.instance_hypernyms():
                if parent not in steps:
                    steps[parent] = steps[node] + 1
                    following.append(parent)
        frontier = following
    return steps


def nearest_common_hypernym(steps_a: Dict[object, int],
                            steps_b: Dict[object, int]
                            ) -> Tuple[Optional[object], int]:
    """The common ancestor with the fewest steps from the farther of the
    two synsets (ties: fewer steps in total, then the name), and that
    number of steps; ``(None, 0)`` without one."""
    common = set(steps_a) & set(steps_b)
    if not common:
        return None, 0
    best = min(common, key=lambda s: (max(steps_a[s], steps_b[s]),
                                      steps_a[s] + steps_b[s], s.name()))
    return best, max(steps_a[best], steps_b[best])


def pair_relations(a, b, steps_a: Dict[object, int],
                   steps_b: Dict[object, int], hypernym_weight: float,
                   meronym_weight: float, max_steps: int,
                   min_similarity: float) -> list:
    """``(weight, relation)`` of every rule that relates synsets a and b."""
    if a == b:
        return [(1.0, 'synonym')]
    found = []
    if steps_a.get(b) == 1 or steps_b.get(a) == 1:
        found.append((hypernym_weight, 'hypernym'))
    for kind in MERONYMS:
        parts = f'{kind}_meronyms'
        if b in getattr(a, parts)() or a in getattr(b, parts)():
            found.append((meronym_weight, f'{kind}_meronym'))
    ancestor, steps = nearest_common_hypernym(steps_a, steps_b)
    if ancestor is not None and steps <= max_steps:
        similarity = a.wup_similarity(b)
        if similarity is not None and similarity >= min_similarity:
            found.append((similarity, f'common_hypernym:{ancestor.name()}'))
    return found


def wordnet_graph(classes: Sequence[str],
                  synsets: Optional[Mapping[str, str]] = None,
                  hypernym_weight: float = 1.0,
                  meronym_weight: float = 0.8,
                  max_steps: int = 3,
                  min_similarity: float = 0.8) -> KnowledgeGraph:
    """KSSNet's A_K (eq. 1) with WordNet's relations (module docstring).

    Args:
        classes (Sequence[str]): N class names.
        synsets (Mapping[str, str], optional): Class name -> synset name
            (``'mouse': 'mouse.n.04'``), over the VOC/COCO defaults.
        hypernym_weight (float): Weight of a direct hypernym link.
        meronym_weight (float): Weight of a direct meronym/holonym link.
        max_steps (int): Most hypernym steps from each label to a common
            hypernym for the ``common_hypernym`` rule (0 disables it).
        min_similarity (float): Least Wu-Palmer similarity for that rule.

    Returns:
        KnowledgeGraph: ``source`` has the synset of each class, the
        options and the WordNet version.

    Raises:
        ValueError: Invalid options, or see :func:`class_synsets`.
        ImportError, FileNotFoundError: nltk or the database is missing
            (see :func:`~mmcma.labels.knowledge.wordnet_data.load_wordnet`).
    """
    for name, value in (('hypernym_weight', hypernym_weight),
                        ('meronym_weight', meronym_weight),
                        ('min_similarity', min_similarity)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not 0 <= value <= 1:
            raise InputOptionError(f'{name} must be a number in [0, 1], got '
                                   f'{value!r}')
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or \
            max_steps < 0:
        raise InputOptionError(
            f'max_steps must be an int >= 0, got {max_steps!r}')
    wordnet = load_wordnet()
    nodes = class_synsets(wordnet, classes, synsets)
    steps = [hypernym_steps(s) for s in nodes]
    edges = EdgeMax(classes)
    for i in range(len(nodes)):
        for j in range(i + 1, len(nodes)):
            for weight, relation in pair_relations(
                    nodes[i], nodes[j], steps[i], steps[j], hypernym_weight,
                    meronym_weight, max_steps, min_similarity):
                edges.add(i, j, weight, relation)
    return edges.graph(dict(
        type='wordnet', version=str(wordnet.get_version()),
        synsets={name: s.name() for name, s in zip(classes, nodes)},
        hypernym_weight=hypernym_weight, meronym_weight=meronym_weight,
        max_steps=max_steps, min_similarity=min_similarity))
