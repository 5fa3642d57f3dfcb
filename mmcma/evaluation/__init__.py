from .dump import DumpMultiLabelPredictions, DumpSamples
from .paper_multilabel_metric import (PaperMultiLabelMetric,
                                      average_precision, paper_metrics)
from .table import (format_metrics, format_multilabel_table,
                    multilabel_table_rows)
from .video_metrics import (VideoMultiLabelMetric, average_precision_per_class,
                            global_average_precision, hit_at_one,
                            mean_average_precision,
                            precision_at_equal_recall_rate)

__all__ = [
    'DumpMultiLabelPredictions', 'DumpSamples', 'PaperMultiLabelMetric',
    'paper_metrics', 'average_precision', 'format_metrics',
    'format_multilabel_table', 'multilabel_table_rows',
    'VideoMultiLabelMetric', 'average_precision_per_class',
    'global_average_precision', 'hit_at_one', 'mean_average_precision',
    'precision_at_equal_recall_rate'
]
