"""Every paper number quoted in configs/ and in the docs' tables matches
docs/paper_numbers.yml, the one table of the papers' numbers.

A quote is a citation (docs/paper_numbers.yml, header)::

    <paper> <table> "<row>" (<dataset>): <metric> <value>[, ...]

in a config's ``# paper:`` header line, or in a "paper" column of a markdown
table (docs/*.md, README.md, configs/README.md).
"""
import glob
import os.path as osp
import re
from typing import Dict, List, Tuple

import pytest
import yaml

from tests.helpers.tool_runner import ROOT

NUMBERS_FILE = osp.join(ROOT, 'docs', 'paper_numbers.yml')
PAPERS = ('MS-CMA', 'KSSNet', 'ML-GCN', 'spatial-context')
_NUMBER = r'\d+(?:\.\d+)?'
_PAIR = rf'[A-Za-z][A-Za-z0-9@]* {_NUMBER}'
CITATION = re.compile(
    rf'(?P<paper>{"|".join(map(re.escape, PAPERS))}) '
    r'(?P<table>Table \d+|README|slides|text) '
    r'"(?P<row>[^"]+)" \((?P<dataset>[^()]+)\): '
    rf'(?P<values>{_PAIR}(?:, {_PAIR})*)')
#: Header prose that names a paper or a table on the line of a result-like
#: number (two digits, a decimal point) must be a "# paper:" citation.
UNCITED = re.compile(r'(Table \d|[Pp]aper).*\b\d\d\.\d|'
                     r'\b\d\d\.\d.*(Table \d|[Pp]aper)')
Key = Tuple[str, str, str, str, str]


def load_numbers() -> Dict[Key, float]:
    with open(NUMBERS_FILE) as f:
        table = yaml.safe_load(f)
    numbers = {}
    for entry in table['numbers']:
        assert entry['paper'] in table['papers'], entry
        assert set(entry) == {'paper', 'table', 'page', 'dataset', 'row',
                              'metric', 'value'}, entry
        key = (entry['paper'], entry['table'], str(entry['row']),
               entry['dataset'], entry['metric'])
        assert key not in numbers, f'{key} twice'
        numbers[key] = float(entry['value'])
    return numbers


def check_citations(text: str, numbers: Dict[Key, float],
                    where: str) -> Tuple[int, List[str]]:
    """Check every citation in ``text``; return (count, errors)."""
    count, errors = 0, []
    for match in CITATION.finditer(text):
        for pair in match['values'].split(', '):
            metric, value = pair.rsplit(' ', 1)
            key = (match['paper'], match['table'], match['row'],
                   match['dataset'], metric)
            count += 1
            if key not in numbers:
                errors.append(f'{where}: {key} is not in paper_numbers.yml')
            elif float(value) != numbers[key]:
                errors.append(f'{where}: {key} quoted as {value}, the paper '
                              f'has {numbers[key]:g}')
    return count, errors


def header_lines(path: str) -> List[str]:
    """The comment lines above a config's first statement."""
    lines = []
    with open(path) as f:
        for line in f:
            if not line.startswith('#'):
                break
            lines.append(line.rstrip('\n'))
    return lines


def config_quotes(lines: List[str]) -> Tuple[List[str], List[str]]:
    """Split header lines into "# paper:" citations (continuations joined)
    and the other lines."""
    quotes, prose, continuing = [], [], False
    for line in lines:
        if line.startswith('# paper: '):
            quotes.append(line[len('# paper: '):].strip())
        elif continuing and line.startswith('#   '):
            quotes[-1] += ' ' + line[1:].strip()
        else:
            prose.append(line)
            continuing = False
            continue
        continuing = quotes[-1].endswith(',')
    return quotes, prose


def check_config(path: str, lines: List[str],
                 numbers: Dict[Key, float]) -> Tuple[int, List[str]]:
    quotes, prose = config_quotes(lines)
    count, errors = 0, []
    for quote in quotes:
        if not CITATION.fullmatch(quote):
            errors.append(f'{path}: "# paper: {quote}" is not a citation')
        n, found = check_citations(quote, numbers, path)
        count, errors = count + n, errors + found
    errors += [f'{path}: paper number outside a "# paper:" line: {line!r}'
               for line in prose if UNCITED.search(line)]
    return count, errors


def markdown_paper_cells(text: str) -> List[Tuple[int, str]]:
    """(line number, cell) of every cell in a column whose header starts
    with "paper"."""
    cells, columns = [], None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith('|'):
            columns = None
            continue
        row = [c.strip() for c in re.split(r'(?<!\\)\|', line)[1:-1]]
        if columns is None:
            columns = [j for j, c in enumerate(row)
                       if c.lower().startswith('paper')]
        elif not set(''.join(row)) <= set('-: '):
            cells += [(i + 1, row[j]) for j in columns if j < len(row)]
    return cells


def check_markdown(path: str, text: str,
                   numbers: Dict[Key, float]) -> Tuple[int, List[str]]:
    count, errors = 0, []
    for line, cell in markdown_paper_cells(text):
        where = f'{path}:{line}'
        n, found = check_citations(cell, numbers, where)
        count, errors = count + n, errors + found
        if re.search(r'\d', CITATION.sub('', cell)):
            errors.append(f'{where}: a number outside a citation: {cell!r}')
    return count, errors


def _configs() -> List[str]:
    return sorted(glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                            recursive=True))


def _markdown() -> List[str]:
    return sorted(glob.glob(osp.join(ROOT, 'docs', '*.md'))) + [
        osp.join(ROOT, 'README.md'), osp.join(ROOT, 'configs', 'README.md')]


def test_the_table_is_well_formed():
    numbers = load_numbers()
    assert len(numbers) > 50
    assert numbers[('MS-CMA', 'Table 1', 'MS-CMA', 'MS-COCO', 'mAP')] == 83.8


def test_config_quotes_match_the_papers():
    numbers = load_numbers()
    total, errors = 0, []
    for path in _configs():
        count, found = check_config(osp.relpath(path, ROOT),
                                    header_lines(path), numbers)
        total, errors = total + count, errors + found
    assert not errors, '\n'.join(errors)
    assert total >= 40  # the parser finds the quotes


def test_docs_table_quotes_match_the_papers():
    numbers = load_numbers()
    total, errors = 0, []
    for path in _markdown():
        with open(path) as f:
            count, found = check_markdown(osp.relpath(path, ROOT), f.read(),
                                          numbers)
        total, errors = total + count, errors + found
    assert not errors, '\n'.join(errors)
    assert total >= 40


@pytest.mark.parametrize('quote, error', [
    ('MS-CMA Table 1 "MS-CMA" (MS-COCO): mAP 83.7', 'quoted as 83.7'),
    ('MS-CMA Table 2 "MS-CMA" (MS-COCO): mAP 83.8', 'not in paper_numbers'),
    ('KSSNet Table 3 "KSSNet (statistical graph)" (MS-COCO): mAP 83.1, '
     'CP 84.2, CR 73.1, CF1 77.6, OP 87.2, OR 76.4, OF1 81.3',
     'quoted as 81.3'),
    ('ML-GCN README "Ours" (NUS-WIDE): mAP 62.8', 'quoted as 62.8'),
])
def test_a_wrong_quote_fails(quote, error):
    numbers = load_numbers()
    _, errors = check_citations(quote, numbers, 'x')
    assert len(errors) == 1 and error in errors[0]
    # The same in a config header and in a docs table.
    _, errors = check_config('x.py', ['# paper: ' + quote], numbers)
    assert len(errors) == 1 and error in errors[0]
    table = f'| config | paper |\n| --- | --- |\n| `x.py` | {quote} |\n'
    _, errors = check_markdown('x.md', table, numbers)
    assert len(errors) == 1 and error in errors[0]


def test_uncited_numbers_fail():
    numbers = load_numbers()
    _, errors = check_config('x.py', [
        '# Paper (MS-CMA, AAAI 2020, Table 1): 83.8 mAP.'], numbers)
    assert errors and 'outside' in errors[0]
    _, errors = check_config('x.py', [
        '# paper: MS-CMA Table 1 "MS-CMA" (MS-COCO): mAP 83.8,',
        '#   CP 82.9, OF1 81.0', '# Not in the paper (44.9 on Charades).'],
        numbers)
    assert len(errors) == 1 and 'outside' in errors[0]
    _, errors = check_config('x.py', ['# paper: MS-CMA Table 1: 83.8 mAP'],
                             numbers)
    assert errors and 'not a citation' in errors[0]
    table = '| config | paper (mAP) |\n| --- | --- |\n| `x.py` | 83.8 |\n'
    _, errors = check_markdown('x.md', table, numbers)
    assert errors and 'outside a citation' in errors[0]
