"""Tiny demo-config models with random weights, saved as checkpoints."""
import os

import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmpretrain import get_model

from mmcma.models import label_state_modules

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
#: The demo configs' normalisation (configs/_base_/datasets/scenes_bs16_64.py).
MEAN, STD = 127.5, 64.0
CLASSES = [
    'airplane', 'bird', 'boat', 'car', 'cloud', 'fish', 'house', 'kite',
    'person', 'sun', 'traffic light', 'tree'
]
#: The demo configs (12 labels, 64 px, 16-channel ResNet-18).
CONFIGS = {
    kind: os.path.join(ROOT, 'configs', 'demo',
                       f'{kind}_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
    for kind in ('linear', 'cma', 'mscma', 'spatial-context')
}
#: Every image family's demo config: CONFIGS and the GCN families.
FAMILY_CONFIGS = dict(CONFIGS, **{
    kind: os.path.join(ROOT, 'configs', 'demo',
                       f'{kind}_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
    for kind in ('mlgcn', 'kssnet')
})


def random_model(config, seed: int = 0, cfg_options=None):
    """The config's model, random weights, label state filled at random.

    The head's parameters are drawn with std 0.5 so that probabilities
    spread over (0, 1) instead of sitting at 0.5 (a comparison of two
    implementations then means something).
    """
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    torch.manual_seed(seed)
    model = get_model(cfg)
    with torch.no_grad():
        for param in model.head.parameters():
            param.normal_(0, 0.5)
        for _, module in label_state_modules(model):
            for name, shape in module.label_state_shapes().items():
                value = (torch.randn(shape) if name == 'embedding' else
                         0.1 + 0.8 * torch.rand(shape))  # graph in [0, 1]
                module.set_label_state(name, value)
    return model.eval()


def fit_batch(model, dataset, size: int, steps: int, lr: float = 3e-3):
    """Train ``model`` (AdamW) on the first ``size`` samples of ``dataset``
    as one fixed batch for ``steps`` steps; return the losses."""
    items = [dataset[i] for i in range(size)]
    batch = model.data_preprocessor(
        dict(inputs=[d['inputs'] for d in items],
             data_samples=[d['data_samples'] for d in items]), training=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        loss = model(**batch, mode='loss')['loss']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def save_checkpoint(model, path: str, classes=CLASSES) -> str:
    """Save ``model`` as a training checkpoint would (with class names)."""
    meta = {'dataset_meta': {'classes': list(classes)}} if classes else {}
    torch.save({'state_dict': model.state_dict(), 'meta': meta}, path)
    return path


def reference_scores(model, files):
    """``model.predict`` on demo images normalised by hand (BGR->RGB, the
    demo configs' mean/std)."""
    batch = np.stack([mmcv.imread(f)[..., ::-1] for f in files])
    inputs = (torch.from_numpy(batch.copy()).permute(0, 3, 1, 2).float() -
              MEAN) / STD
    with torch.no_grad():
        preds = model.predict(inputs)
    return torch.stack([p.pred_score for p in preds]).numpy()
