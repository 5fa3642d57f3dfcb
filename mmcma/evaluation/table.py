"""The multi-label metrics table of the papers (all labels and top-3)."""
from typing import Dict, List, Optional, Sequence

COLUMNS = ('mAP', 'CP', 'CR', 'CF1', 'OP', 'OR', 'OF1')
#: The first line of the table: which definitions the columns use.
HEADER = ("the papers' metrics (ML-GCN's evaluation): "
          'CF1 = 2 CP CR / (CP + CR), OF1 = 2 OP OR / (OP + OR)\n'
          'all: the labels scored >= thr (0.5 in the configs); top-3: the 3 '
          'best labels of each image scored >= thr')


def multilabel_table_rows(metrics: Dict[str, float],
                          prefix: str = 'multi-label/') -> List[List[str]]:
    """Arrange :class:`~mmcma.evaluation.PaperMultiLabelMetric`'s results
    into rows ``[setting, mAP, CP, ..., OF1]``.

    Missing metrics show as ``-``; values are percentages.
    """
    rows = []
    for setting, suffix in (('all', ''), ('top-3', '_top3')):
        row = [setting]
        for col in COLUMNS:
            value = metrics.get(prefix + col + ('' if col == 'mAP' else suffix))
            row.append('-' if value is None else f'{value:.2f}')
        rows.append(row)
    return rows


def align(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells as right-aligned plain-text columns."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(c.rjust(w) for c, w in zip(r, widths))
                     for r in rows)


def format_multilabel_table(metrics: Dict[str, float],
                            prefix: str = 'multi-label/') -> str:
    """The table as plain text: the definitions line, a header, two rows,
    and a note when labels without positives were left out."""
    table = align([['', *COLUMNS]] + multilabel_table_rows(metrics, prefix))
    lines = [HEADER, table]
    left_out = metrics.get(prefix + 'labels_without_positives')
    if left_out:
        lines.append(f'{left_out} label(s) without a positive in this set '
                     'are left out of mAP, CP, CR and CF1')
    return '\n'.join(lines)


def format_per_class_ap(ap: Sequence[Optional[float]],
                        classes: Sequence[str]) -> str:
    """One line per label: its name and AP (``-`` without positives)."""
    if len(ap) != len(classes):
        raise ValueError(f'{len(ap)} per-class APs for {len(classes)} '
                         'class names')
    rows = [['class', 'AP']] + [[name, '-' if v is None else f'{v:.2f}']
                                for name, v in zip(classes, ap)]
    width = max(len(r[0]) for r in rows)
    return '\n'.join(f'{r[0].ljust(width)}  {r[1].rjust(6)}' for r in rows)


def format_metrics(metrics: Dict[str, float]) -> str:
    """The papers' table when :class:`PaperMultiLabelMetric` ran, else one
    ``name: value`` line per scalar metric (e.g. the video metrics, or
    mmpretrain's own multi-label metrics under their own names)."""
    if 'multi-label/CF1' in metrics:
        return format_multilabel_table(metrics)
    return '\n'.join(f'{k}: {v:.2f}' for k, v in metrics.items()
                     if isinstance(v, (int, float)))
