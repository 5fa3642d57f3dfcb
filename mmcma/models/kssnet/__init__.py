"""KSSNet (Wang et al., AAAI 2020, seed 002): label GCN + lateral connections.

A label GCN over the KS graph (:class:`LabelGCN`, eq. 6) whose hidden
embeddings enter any registered backbone through lateral connections
(:func:`lateral_connection`, eq. 7) hooked onto named stages
(:class:`LateralGCNBackbone`), and ML-GCN's classifier on top
(:class:`KSSNetHead`). Design notes: ``docs/kssnet.md``.
"""
from .backbone import LateralGCNBackbone, check_stages, lateral_hooks
from .gcn import GCN_INITS, LabelGCN
from .head import KSSNetHead
from .lateral import (ACTIVATIONS, LateralConnection, label_correlation,
                      lateral_connection)

__all__ = [
    'LateralGCNBackbone', 'check_stages', 'lateral_hooks', 'GCN_INITS',
    'LabelGCN', 'KSSNetHead', 'ACTIVATIONS', 'LateralConnection',
    'label_correlation', 'lateral_connection'
]
