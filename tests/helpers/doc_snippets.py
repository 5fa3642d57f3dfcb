"""The code blocks of README.md and docs/*.md, and how CI runs them.

Every fenced block names its language. A runnable one (``bash``, ``sh``,
``shell``, ``python``) carries, in the HTML comment lines right above its
fence, what CI does with it (the convention of docs/architecture.md,
"Code blocks in the docs"):

``<!-- ci: run [setup=NAME,...] -->``
    run it: python in a fresh interpreter, bash through ``bash -e``, in a
    workspace that the named setups prepared;
``<!-- ci: config [file=PATH] -->``
    a config (or config fragment): written to PATH (default
    ``snippet.py``), read by mmengine, its ``model`` and ``custom_hooks``
    built;
``<!-- ci: skip reason="..." -->``
    not run, for the reason given (data or hardware CI lacks).
"""
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
#: The documents whose blocks CI checks.
DOCUMENTS = ['README.md'] + sorted(
    os.path.join('docs', name)
    for name in os.listdir(os.path.join(ROOT, 'docs')) if name.endswith('.md'))
RUNNABLE = {'bash': 'bash', 'sh': 'bash', 'shell': 'bash', 'python': 'python'}
MODES = ('run', 'config', 'skip')
FENCE = re.compile(r'^(\s*)(```+)\s*([\w+-]*)\s*$')
COMMENT = re.compile(r'^\s*<!--(.*?)-->\s*$')
ANNOTATION = re.compile(r'^\s*ci:\s*(.*)$')

#: Text replaced in every block before it runs: the documented commands at
#: the size of a test (the generators' own flags), with this interpreter.
OVERRIDES = {
    '--out data/scenes': '--out data/scenes --num-train 16 --num-val 8',
    '--out data/yt8m_demo': '--out data/yt8m_demo --num-train 64 '
                            '--num-val 16',
    '.venv/bin/python': 'python',
}
#: Output lines that mention a warning the user can act on; each with the
#: action. Any other line with "warning" in it fails the block.
ACTIONABLE_WARNINGS: List[Tuple[str, str]] = []
WARNING = re.compile(r'warn', re.I)


@dataclass
class Block:
    """One fenced block: document, 1-based line of its fence, language,
    code, and its ``ci:`` annotation (``None`` if it has none)."""
    doc: str
    line: int
    lang: str
    code: str
    mode: Optional[str] = None
    options: Dict[str, str] = field(default_factory=dict)
    problem: Optional[str] = None

    @property
    def id(self) -> str:
        return f'{self.doc}:{self.line}'

    @property
    def setups(self) -> Tuple[str, ...]:
        value = self.options.get('setup', '')
        return tuple(s for s in value.split(',') if s)

    @property
    def kind(self) -> Optional[str]:
        """``'bash'``, ``'python'`` or ``None`` (not runnable)."""
        return RUNNABLE.get(self.lang)


def parse_annotation(comment: str):
    """``'ci: skip reason="x y"'`` -> ``('skip', {'reason': 'x y'})``;
    ``None`` for another comment. Raises ``ValueError`` on a bad one."""
    match = ANNOTATION.match(comment.strip())
    if not match:
        return None
    words = shlex.split(match.group(1))
    if not words or words[0] not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {words[:1]}')
    options = {}
    for word in words[1:]:
        key, sep, value = word.partition('=')
        if not sep or not value:
            raise ValueError(f'option {word!r} is not key=value')
        options[key] = value
    allowed = {'run': {'setup'}, 'config': {'file', 'setup'},
               'skip': {'reason'}}[words[0]]
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(f'{words[0]} takes {sorted(allowed)}, got '
                         f'{sorted(unknown)}')
    if words[0] == 'skip' and 'reason' not in options:
        raise ValueError('skip needs reason="..."')
    return words[0], options


def parse_blocks(text: str, doc: str) -> List[Block]:
    """Every fenced block of a markdown text, with its annotation (read
    from the comment lines right above the fence)."""
    lines = text.split('\n')
    blocks, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, start = match.group(2), i
        end = start + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        block = Block(doc, start + 1, match.group(3),
                      '\n'.join(lines[start + 1:end]) + '\n')
        above = start - 1
        while above >= 0 and COMMENT.match(lines[above]):
            try:
                found = parse_annotation(COMMENT.match(lines[above]).group(1))
            except ValueError as exc:
                block.problem = f'bad annotation: {exc}'
                found = None
            if found:
                block.mode, block.options = found
            above -= 1
        blocks.append(block)
        i = end + 1
    return blocks


def all_blocks() -> List[Block]:
    blocks = []
    for doc in DOCUMENTS:
        with open(os.path.join(ROOT, doc), encoding='utf-8') as f:
            blocks += parse_blocks(f.read(), doc)
    return blocks


def with_overrides(code: str) -> str:
    for old, new in OVERRIDES.items():
        code = code.replace(old, new)
    return code


def unexplained_warnings(output: str) -> List[str]:
    """Lines of ``output`` that mention a warning not in
    :data:`ACTIONABLE_WARNINGS`."""
    return [
        line for line in output.splitlines() if WARNING.search(line) and
        not any(re.search(pattern, line)
                for pattern, _ in ACTIONABLE_WARNINGS)
    ]


def shim_dir(path: str) -> str:
    """A folder of commands that go first on PATH: ``python`` is this
    interpreter, ``pip`` does nothing (CI installed the pinned stack)."""
    os.makedirs(path, exist_ok=True)
    scripts = {
        'python': f'#!/bin/sh\nexec "{sys.executable}" "$@"\n',
        'python3': f'#!/bin/sh\nexec "{sys.executable}" "$@"\n',
        'pip': '#!/bin/sh\necho "ci: not run: pip $*"\n',
    }
    for name, text in scripts.items():
        with open(os.path.join(path, name), 'w') as f:
            f.write(text)
        os.chmod(os.path.join(path, name), 0o755)
    return path


CONFIG_CHECK = """
import sys
import mmcma  # noqa: F401  (the `mmcma::` scope, the components)
from mmengine.config import Config
from mmpretrain import get_model
from mmpretrain.registry import HOOKS
cfg = Config.fromfile(sys.argv[1])
if 'type' in cfg.get('model', {}):
    model = get_model(cfg)
    print('model:', type(model).__name__, type(model.head).__name__)
for hook in cfg.get('custom_hooks', []):
    print('hook:', type(HOOKS.build(hook)).__name__)
"""


def run_block(block: Block, workspace: str, timeout: int = 900) -> str:
    """Run ``block`` in ``workspace`` (its mode: run or config); return the
    output. Raises ``AssertionError`` with the output if it fails."""
    code = with_overrides(block.code)
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               MPLBACKEND='Agg', PYTHONPATH=ROOT)
    env.pop('PYTHONWARNINGS', None)
    env['PATH'] = shim_dir(os.path.join(workspace, '.ci_bin')) + \
        os.pathsep + env['PATH']
    name = f'snippet_{block.line}.py'
    if block.mode == 'config':
        name = block.options.get('file', name)
        command = [sys.executable, '-c', CONFIG_CHECK, name]
    elif block.kind == 'python':
        command = [sys.executable, name]
    else:
        command = ['bash', '-e', '-o', 'pipefail', '-c', code]
    if command[0] == sys.executable:
        path = os.path.join(workspace, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(code)
    proc = subprocess.run(command, cwd=workspace, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout)
    assert proc.returncode == 0, (
        f'{block.id} failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}')
    return proc.stdout
