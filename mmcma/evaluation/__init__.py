from .dump import DumpMultiLabelPredictions
from .table import format_multilabel_table, multilabel_table_rows

__all__ = [
    'DumpMultiLabelPredictions', 'format_multilabel_table',
    'multilabel_table_rows'
]
