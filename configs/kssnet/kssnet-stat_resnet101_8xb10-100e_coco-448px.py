# Ablation: KSSNet with the statistical graph only (lambda = 1: ML-GCN's
# co-occurrence graph, symmetrised, normalised, thresholded at tau and
# self-weighted by eta; the knowledge graph gets weight 0). Everything else
# as kssnet_resnet101_8xb10-100e_coco-448px.py.
# Paper (KSSNet, AAAI 2020, Table 3, "KSSNet (statistical graph)"): 83.1 mAP
# (CP 84.2, CR 73.1, CF1 77.6, OP 87.2, OR 76.4, OF1 81.2); KS graph: 83.7.
_base_ = ['./kssnet_resnet101_8xb10-100e_coco-448px.py']
custom_hooks = [
    dict(
        type='LabelStateHook',
        graph=dict(
            kind='ks', knowledge=dict(type='wordnet'), lam=1.0, tau=0.02,
            eta=0.4),
        embedding=dict(type='glove')),
]
