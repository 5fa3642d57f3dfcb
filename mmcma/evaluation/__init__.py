from .dump import DumpMultiLabelPredictions, DumpSamples
from .table import (format_metrics, format_multilabel_table,
                    multilabel_table_rows)
from .video_metrics import (VideoMultiLabelMetric, average_precision_per_class,
                            global_average_precision, hit_at_one,
                            mean_average_precision,
                            precision_at_equal_recall_rate)

__all__ = [
    'DumpMultiLabelPredictions', 'DumpSamples', 'format_metrics',
    'format_multilabel_table', 'multilabel_table_rows',
    'VideoMultiLabelMetric', 'average_precision_per_class',
    'global_average_precision', 'hit_at_one', 'mean_average_precision',
    'precision_at_equal_recall_rate'
]
