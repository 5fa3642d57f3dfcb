"""Every code block of README.md and docs/*.md runs in CI, or says why not.

The convention (``<!-- ci: run | config | skip ... -->`` above a fence) is
in tests/helpers/doc_snippets.py and docs/architecture.md. Blocks of one
document that share their setups share a workspace and run in document
order, as a reader would run them: a block first runs the ones above it.
"""
import os
import sys
import shutil

import pytest

from mmcma.datasets.synthetic_scenes import generate
from tests.helpers.doc_snippets import (ROOT, Block, all_blocks,
                                        parse_blocks, run_block,
                                        unexplained_warnings,
                                        with_overrides)
from tests.helpers.tool_runner import run_tool, train_options

BLOCKS = all_blocks()
RUN = [b for b in BLOCKS if b.mode in ('run', 'config')]
#: The demo data of the setups: 16 train / 8 val scenes of 64 px, seed 0
#: (the size OVERRIDES give the generator's documented command).
SCENES = (16, 8, 64, 0)
#: setup name -> (demo config, work dir the docs use, file names the docs
#: use for its checkpoint). The model trains 1 epoch on SCENES.
TRAINED = {
    'demo': ('mscma', 'work_dirs/demo', ('epoch_24.pth', )),
    'demo-sc': ('spatial-context', 'work_dirs/demo_sc', ('epoch_24.pth', )),
}
SETUPS = {'scenes', 'photos', *TRAINED}


def test_parse_blocks_reads_fences_and_annotations():
    text = '\n'.join([
        'text', '<!-- ci: skip reason="needs COCO" -->', '```bash',
        'python tools/train.py x', '```', '', '<!-- snippet: name -->',
        '<!-- ci: run setup=demo,photos -->', '```python', 'print(1)',
        '```', '```text', 'out', '```', '```python', 'x = 1', '```'
    ])
    skip, run, out, bare = parse_blocks(text, 'x.md')
    assert (skip.line, skip.lang, skip.mode) == (3, 'bash', 'skip')
    assert skip.options == {'reason': 'needs COCO'}
    assert skip.code == 'python tools/train.py x\n'
    assert (run.mode, run.setups, run.code) == ('run', ('demo', 'photos'),
                                                'print(1)\n')
    assert out.kind is None and out.mode is None
    assert bare.kind == 'python' and bare.mode is None
    [bad] = parse_blocks('<!-- ci: skip -->\n```bash\nls\n```\n', 'y.md')
    assert bad.problem and 'reason' in bad.problem


def test_overrides_and_warning_scan():
    assert with_overrides('.venv/bin/python -m x --out data/scenes') == \
        'python -m x --out data/scenes --num-train 16 --num-val 8'
    assert unexplained_warnings('ok\nUserWarning: x\nfine') == \
        ['UserWarning: x']
    assert unexplained_warnings('mmengine - WARNING - y') == \
        ['mmengine - WARNING - y']


@pytest.mark.parametrize('block', BLOCKS, ids=lambda b: b.id)
def test_every_block_says_what_ci_does(block: Block):
    assert block.lang, (
        f'{block.id}: name the language of the block (`text` for output '
        'and layouts)')
    assert block.problem is None, f'{block.id}: {block.problem}'
    if block.kind:
        assert block.mode, (
            f'{block.id}: a {block.lang} block needs <!-- ci: run -->, '
            '<!-- ci: config --> or <!-- ci: skip reason="..." --> above it')
    else:
        assert block.mode is None, f'{block.id}: {block.lang} never runs'
    assert set(block.setups) <= SETUPS, f'{block.id}: unknown setup'
    if block.mode == 'config':
        assert block.kind == 'python', f'{block.id}: a config is python'


@pytest.fixture(scope='session')
def trained(make_scenes, tmp_path_factory):
    """``trained(setup)``: the work dir of a setup's model (1 epoch on
    SCENES), trained once per session."""
    made = {}

    def train(setup: str) -> str:
        if setup not in made:
            kind, _, _ = TRAINED[setup]
            work_dir = str(tmp_path_factory.mktemp(setup))
            config = os.path.join(
                ROOT, 'configs', 'demo',
                f'{kind}_resnet18-w16_1xb16-coslr-24e_scenes-64px.py')
            run_tool('tools/train.py', config, '--work-dir', work_dir,
                     *train_options(make_scenes(*SCENES), 1))
            made[setup] = os.path.join(work_dir, 'epoch_1.pth')
        return made[setup]

    return train


def prepare(workspace: str, setups, make_scenes, trained) -> None:
    """A user's folder: the repository's configs (a copy), tools and
    benchmarks, and what the setups add."""
    shutil.copytree(os.path.join(ROOT, 'configs'),
                    os.path.join(workspace, 'configs'))
    for name in ('tools', 'benchmarks'):
        os.symlink(os.path.join(ROOT, name), os.path.join(workspace, name))
    if setups:  # every setup needs the scenes
        shutil.copytree(make_scenes(*SCENES),
                        os.path.join(workspace, 'data', 'scenes'))
    if 'photos' in setups:
        shutil.copytree(os.path.join(workspace, 'data', 'scenes', 'val'),
                        os.path.join(workspace, 'photos'))
    for setup in set(setups) & set(TRAINED):
        _, work_dir, names = TRAINED[setup]
        os.makedirs(os.path.join(workspace, work_dir))
        for name in names:
            shutil.copy(trained(setup), os.path.join(workspace, work_dir,
                                                     name))
        with open(os.path.join(workspace, work_dir, 'last_checkpoint'),
                  'w') as f:
            f.write(f'{work_dir}/{names[-1]}')


@pytest.fixture(scope='session')
def run_in_order(make_scenes, trained, tmp_path_factory):
    """``run_in_order(block)``: run the blocks of its group (document and
    setups) up to it, each once per session; return its output."""
    workspaces, outputs = {}, {}

    def run(block: Block) -> str:
        group = (block.doc, block.setups)
        if group not in workspaces:
            workspace = str(tmp_path_factory.mktemp('docs'))
            prepare(workspace, block.setups, make_scenes, trained)
            workspaces[group] = workspace
        for earlier in RUN:
            if (earlier.doc, earlier.setups) != group or \
                    earlier.line > block.line:
                continue
            if earlier.id not in outputs:
                try:
                    outputs[earlier.id] = run_block(earlier,
                                                    workspaces[group])
                except (AssertionError, OSError) as exc:
                    outputs[earlier.id] = exc
            if isinstance(outputs[earlier.id], Exception):
                pytest.fail(f'{block.id}: {earlier.id} failed: '
                            f'{outputs[earlier.id]}')
        return outputs[block.id]

    return run


@pytest.mark.slow
@pytest.mark.parametrize('block', RUN, ids=lambda b: b.id)
def test_block_runs_without_unexplained_warnings(block: Block, run_in_order):
    output = run_in_order(block)
    warnings = unexplained_warnings(output)
    assert not warnings, (
        f'{block.id} printed warnings the user cannot act on (fix the '
        'cause, or list the action in ACTIONABLE_WARNINGS):\n' +
        '\n'.join(warnings))


def test_run_block_fails_on_a_failing_line(tmp_path):
    """A python block that raises and a bash block whose middle command
    fails both fail (``bash -e``); what they print comes back."""
    raising = Block('x.md', 1, 'python',
                    'print("before")\nraise SystemExit(3)\n', mode='run')
    with pytest.raises(AssertionError, match='exit 3'):
        run_block(raising, str(tmp_path))
    failing = Block('x.md', 2, 'bash', 'echo one\nfalse\necho two\n',
                    mode='run')
    with pytest.raises(AssertionError, match='one') as exc:
        run_block(failing, str(tmp_path))
    assert 'two' not in str(exc.value)
    shimmed = Block('x.md', 3, 'bash', 'pip install x\n'
                    'python -c "import sys; print(sys.prefix)"\n', mode='run')
    output = run_block(shimmed, str(tmp_path))
    assert 'ci: not run: pip install x' in output
    assert output.splitlines()[-1] == sys.prefix
