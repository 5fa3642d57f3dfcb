# The multi-label metrics of the papers: mAP, per-class CP/CR/CF1 and overall
# OP/OR/OF1, for all labels above 0.5 and for the top-3 labels of each image.
val_evaluator = [
    dict(type='AveragePrecision'),
    dict(type='MultiLabelMetric', thr=0.5, average='macro'),
    dict(type='MultiLabelMetric', thr=0.5, average='micro'),
    dict(type='MultiLabelMetric', topk=3, average='macro'),
    dict(type='MultiLabelMetric', topk=3, average='micro'),
]
test_evaluator = val_evaluator
