# The multi-label metrics of the papers, as ML-GCN's evaluation computes them
# (mmcma/evaluation/paper_multilabel_metric.py): mAP, CP / CR and
# CF1 = 2 CP CR / (CP + CR), OP / OR and OF1 = 2 OP OR / (OP + OR), for all
# labels scored >= 0.5 and for the top-3 labels of each image scored >= 0.5.
# It also reports macro-F1 (the mean of per-label F1, mmpretrain's
# MultiLabelMetric 'f1-score'), which is not the papers' CF1.
val_evaluator = dict(type='PaperMultiLabelMetric', thr=0.5, topk=3)
test_evaluator = val_evaluator
