"""The multi-label metrics table of the papers (all labels and top-3)."""
from typing import Dict, List

COLUMNS = ('mAP', 'CP', 'CR', 'CF1', 'OP', 'OR', 'OF1')
# Keys written by mmpretrain's AveragePrecision / MultiLabelMetric
# (prefix 'multi-label/'); '{sfx}' is '' for thr=0.5 and '_top3' for topk=3.
_KEYS = dict(CP='precision{sfx}', CR='recall{sfx}', CF1='f1-score{sfx}',
             OP='precision{sfx}_micro', OR='recall{sfx}_micro',
             OF1='f1-score{sfx}_micro')


def multilabel_table_rows(metrics: Dict[str, float],
                          prefix: str = 'multi-label/') -> List[List[str]]:
    """Arrange a metrics dict into rows ``[setting, mAP, CP, ..., OF1]``.

    Missing metrics show as ``-``; values are percentages as mmpretrain
    reports them.
    """
    rows = []
    for setting, sfx in (('all', ''), ('top-3', '_top3')):
        row = [setting]
        for col in COLUMNS:
            key = prefix + ('mAP' if col == 'mAP' else _KEYS[col].format(
                sfx=sfx))
            value = metrics.get(key)
            row.append('-' if value is None else f'{value:.2f}')
        rows.append(row)
    return rows


def format_multilabel_table(metrics: Dict[str, float],
                            prefix: str = 'multi-label/') -> str:
    """Return the table as aligned plain text (one header, two rows)."""
    rows = [['', *COLUMNS]] + multilabel_table_rows(metrics, prefix)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(c.rjust(w) for c, w in zip(r, widths))
                     for r in rows)


def format_metrics(metrics: Dict[str, float]) -> str:
    """The multi-label table when those metrics are present, else one
    ``name: value`` line per scalar metric (e.g. the video metrics)."""
    if any(k.startswith('multi-label/') for k in metrics):
        return format_multilabel_table(metrics)
    return '\n'.join(f'{k}: {v:.2f}' for k, v in metrics.items()
                     if isinstance(v, (int, float)))
