"""Config changes behind ``tools/test.py``'s mmpretrain flags.

``--out`` (with ``--out-item``), ``--tta`` and ``--show-dir`` / ``--show``
mean what they mean in mmpretrain's ``tools/test.py``; this module turns
them into config changes, each a plain function of the config, and writes
mmcma's ``--per-class-ap`` table.
"""
import copy
import csv
import json
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config, ConfigDict

#: ``--out`` suffixes for predictions (``--out-item pred``, the default):
#: a plain ``.npz`` of arrays (mmcma's, read without pickle) or mmpretrain's
#: pickle of the predicted samples (mmengine's ``DumpResults``).
PRED_SUFFIXES = ('.npz', '.pkl', '.pickle')
#: ``--out`` suffixes for the metrics dict (``--out-item metrics``): the
#: formats ``mmengine.dump`` writes.
METRICS_SUFFIXES = ('.json', '.yaml', '.yml', '.pkl', '.pickle')


def out_problem(out: Optional[str], out_item: Optional[str]) -> Optional[str]:
    """Why ``--out OUT --out-item ITEM`` cannot be written, or None."""
    if out is None:
        return ('--out-item needs --out (the file to write)'
                if out_item is not None else None)
    suffix = osp.splitext(out)[1].lower()
    if out_item == 'metrics':
        if suffix not in METRICS_SUFFIXES:
            return (f'--out {out}: the metrics are written as '
                    f'{" / ".join(METRICS_SUFFIXES)}, got "{suffix}"')
    elif suffix not in PRED_SUFFIXES:
        return (f'--out {out}: predictions are written as .npz (plain '
                'arrays, loaded without pickle) or .pkl / .pickle '
                f'(mmpretrain\'s pickle of the samples), got "{suffix}"')
    return None


def add_prediction_dump(cfg: Config, out: str) -> None:
    """Append the metric that writes the predictions to ``out``.

    ``.npz``: :class:`~mmcma.evaluation.DumpMultiLabelPredictions` (scores,
    targets, ids, classes). ``.pkl`` / ``.pickle``: mmengine's
    ``DumpResults`` (:class:`~mmcma.evaluation.DumpSamples`), as mmpretrain's
    ``tools/test.py``: a list with one dict
    per sample (``pred_score``, ``pred_label``, ``gt_label``, ``gt_score``,
    ``img_path``, ...) for ``mmengine.load``, which unpickles it (load only
    files you wrote yourself).
    """
    if out.lower().endswith('.npz'):
        dump = dict(type='DumpMultiLabelPredictions', out_file=out)
    else:
        dump = dict(type='DumpSamples', out_file_path=out)
    evaluator = cfg.test_evaluator
    evaluator = list(evaluator) if isinstance(evaluator, (list, tuple)) \
        else [evaluator]
    cfg.test_evaluator = evaluator + [dump]


#: ``--per-class-ap FILE`` suffixes.
PER_CLASS_SUFFIXES = ('.csv', '.json')


def per_class_problem(out: Optional[str]) -> Optional[str]:
    """Why ``--per-class-ap OUT`` cannot be written, or None."""
    if out and osp.splitext(out)[1].lower() not in PER_CLASS_SUFFIXES:
        return (f'--per-class-ap {out}: the table is written as .csv or '
                f'.json, got "{osp.splitext(out)[1]}"')
    return None


def enable_per_class_ap(cfg: Config) -> None:
    """Ask the test evaluator's ``PaperMultiLabelMetric`` for the AP of
    every label (``--per-class-ap``).

    Raises:
        ValueError: The test evaluator has no ``PaperMultiLabelMetric``.
    """
    evaluator = cfg.test_evaluator
    metrics = list(evaluator) if isinstance(evaluator, (list, tuple)) \
        else [evaluator]
    found = [m for m in metrics if m.get('type') == 'PaperMultiLabelMetric']
    if not found:
        raise ValueError(
            '--per-class-ap needs a PaperMultiLabelMetric in test_evaluator '
            f'(the image configs have one), got '
            f'{[m.get("type") for m in metrics]}')
    for metric in found:
        metric['per_class'] = True


def save_per_class_ap(path: str, classes: Sequence[str],
                      ap: Sequence[Optional[float]]) -> None:
    """Write ``class,AP`` rows (.csv; empty AP for a label without
    positives) or a ``{class: AP}`` object (.json; null)."""
    if path.lower().endswith('.json'):
        with open(path, 'w') as f:
            json.dump(dict(zip(classes, ap)), f, indent=2)
        return
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['class', 'AP'])
        writer.writerows([name, '' if v is None else f'{v:.4f}']
                         for name, v in zip(classes, ap))


def flip_tta_pipeline(pipeline: list) -> list:
    """``pipeline`` with its final ``PackInputs`` replaced by a
    ``TestTimeAug`` over two views: the image as it is, then flipped
    horizontally (as mmpretrain's ``tools/test.py --tta`` builds it, with
    the unflipped view first).

    Raises:
        ValueError: The pipeline does not end with ``PackInputs``.
    """
    if not pipeline or pipeline[-1].get('type') != 'PackInputs':
        last = pipeline[-1].get('type') if pipeline else 'nothing'
        raise ValueError(
            '--tta builds a flip average from the test pipeline, which must '
            f"end with PackInputs (it ends with {last}): set tta_pipeline "
            "(with a TestTimeAug) and tta_model in the config")
    flips = [dict(type='RandomFlip', prob=0.),
             dict(type='RandomFlip', prob=1., direction='horizontal')]
    return [*copy.deepcopy(pipeline[:-1]),
            dict(type='TestTimeAug',
                 transforms=[flips, [copy.deepcopy(pipeline[-1])]])]


def apply_tta(cfg: Config) -> None:
    """Test with test-time augmentation, as mmpretrain's ``--tta``.

    The config's ``tta_model`` wraps ``model`` (default
    :class:`~mmcma.models.MultiLabelScoreTTA`: the mean of the views'
    probabilities) and ``tta_pipeline`` replaces the test pipeline (default
    :func:`flip_tta_pipeline` of the test pipeline).

    Raises:
        ValueError: No ``tta_pipeline`` and a test dataset without an image
            pipeline (frame features) or one not ending with ``PackInputs``.
    """
    loader = cfg.test_dataloader = copy.deepcopy(cfg.test_dataloader)
    if 'tta_pipeline' not in cfg:
        if 'pipeline' not in loader.dataset:
            raise ValueError(
                f'--tta: the test dataset ({loader.dataset.get("type")}) has '
                'no pipeline to augment (frame features?); set tta_pipeline '
                'and tta_model in the config')
        cfg.tta_pipeline = flip_tta_pipeline(loader.dataset.pipeline)
    tta_model = cfg.get('tta_model') or dict(type='MultiLabelScoreTTA')
    cfg.model = ConfigDict(**tta_model, module=cfg.model)
    loader.dataset.pipeline = cfg.tta_pipeline


def apply_visualization(cfg: Config, out_dir: Optional[str], show: bool,
                        interval: int, wait_time: float) -> None:
    """Turn the config's visualization hook on (``--show-dir``, ``--show``).

    Raises:
        ValueError: ``default_hooks`` has no ``visualization`` hook.
    """
    hook = (cfg.get('default_hooks') or {}).get('visualization')
    if hook is None:
        raise ValueError(
            '--show-dir / --show need a visualization hook: set '
            "default_hooks.visualization=dict(type="
            "'MultiLabelVisualizationHook') in the config (as "
            'configs/_base_/default_runtime.py does)')
    hook.update(enable=True, out_dir=out_dir, show=show, interval=interval,
                wait_time=wait_time)


def disable_dataloader_options(cfg: Config, pin_memory: bool,
                               persistent_workers: bool) -> None:
    """``--no-pin-memory`` / ``--no-persistent-workers``: switch these
    options off in every dataloader of the config (True = switch off)."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if loader is None:
            continue
        if pin_memory:
            loader['pin_memory'] = False
        if persistent_workers:
            loader['persistent_workers'] = False
