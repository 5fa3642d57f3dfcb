from .snet import MaskedBatchNorm1d, SNet, SNetFC

__all__ = ['MaskedBatchNorm1d', 'SNet', 'SNetFC']
