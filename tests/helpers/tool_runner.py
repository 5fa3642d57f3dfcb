"""Run the project's command-line tools in a subprocess, as a user would,
or in this process through their ``main``."""
import importlib.util
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def tool_env() -> dict:
    """The environment of a tool run: one thread, and this checkout's
    ``mmcma`` first on the path (not an installed copy elsewhere)."""
    path = [ROOT] + [p for p in os.environ.get('PYTHONPATH', '').split(
        os.pathsep) if p]
    return dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
                PYTHONPATH=os.pathsep.join(path))


def run_tool(*args, timeout: int = 900) -> str:
    """Run ``python *args`` in the repo root (1 thread); return its output.

    Fails the test, with the end of the output, if the tool fails.
    """
    env = tool_env()
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def train_options(data_root: str, epochs: int) -> list:
    """``--cfg-options`` of a short demo-config run on ``data_root``:
    ``epochs`` epochs, validation every epoch, batches of 8, a log line per
    step."""
    return [
        '--cfg-options', f'train_cfg.max_epochs={epochs}',
        'train_cfg.val_interval=1',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'train_dataloader.batch_size=8', 'default_hooks.logger.interval=1'
    ]


def tool(name: str):
    """The ``main`` of tools/NAME.py, loaded in this process."""
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def tool_error(name: str, *argv) -> str:
    """Run tools/NAME.py in this process; return its one-line error (the
    tool must end with ``SystemExit('error: ...')``)."""
    import pytest
    with pytest.raises(SystemExit) as exc:
        tool(name)(list(argv))
    message = str(exc.value.code)
    assert message.startswith('error: ') and '\n' not in message, message
    return message
