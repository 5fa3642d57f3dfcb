# KSSNet on MS-COCO 2014 at 448 px, ResNet-101, the paper's recipe
# (configs/_base_/schedules/kssnet_adam_100e.py): ML-GCN's preprocessing
# (multi-scale crop + flip), Adam lr 0.01, weight decay 1e-4, batch 80
# (8 x 10), 100 epochs; 4-layer GCN 256-512-1024-2048, lateral connections
# into res2-res4, KS graph (lambda 0.4, tau 0.02, eta 0.4).
# paper: KSSNet Table 1 "KSSNet" (MS-COCO): mAP 83.7, CP 84.6, CR 73.2,
#   CF1 77.2, OP 87.8, OR 76.2, OF1 81.5
# paper: KSSNet Table 3 "KSSNet (statistical graph)" (MS-COCO): mAP 83.1
# paper: KSSNet Table 3 "KSSNet (knowledge graph)" (MS-COCO): mAP 81.0
# With GloVe 6B 50-d vectors and WordNet as A_K here: not measured (no GPU).
_base_ = [
    '../_base_/models/kssnet_resnet101.py',
    '../_base_/datasets/coco_bs8_448.py',
    '../_base_/datasets/mlgcn_train_448.py',
    '../_base_/schedules/kssnet_adam_100e.py',
    '../_base_/default_runtime.py',
]
# ML-GCN's training crop; testing resizes to 448 x 448 (the base's).
train_dataloader = dict(
    batch_size=10, dataset=dict(pipeline={{_base_.mlgcn_train_pipeline}}))
