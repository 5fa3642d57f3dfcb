"""tools/infer.py on real photos of mixed sizes and modes (grey, RGB, RGBA;
14 px to 1411 px), shipped in installed wheels, with every image family's
demo checkpoint (random weights): every photo gets a result and its own
figure, also where a file name repeats across folders."""
import json
import os
import shutil

import mmcv
import numpy as np
import pytest
from PIL import Image

from tests.helpers.demo_models import (FAMILY_CONFIGS, random_model,
                                       save_checkpoint)
from tests.helpers.tool_runner import run_tool


def wheel_photos():
    """(source path, folder/name in the test folder) of the photos."""
    skimage = pytest.importorskip('skimage')
    matplotlib = pytest.importorskip('matplotlib')
    sklearn_datasets = pytest.importorskip('sklearn.datasets')
    sk = skimage.data_dir
    mpl = os.path.join(matplotlib.get_data_path(), 'sample_data')
    skl = os.path.join(os.path.dirname(sklearn_datasets.__file__), 'images')
    return [
        (os.path.join(sk, 'retina.jpg'), 'a/retina.jpg'),  # 1411 px RGB
        (os.path.join(sk, 'camera.png'), 'a/camera.png'),  # grey
        (os.path.join(sk, 'horse.png'), 'a/horse.png'),  # RGBA
        (os.path.join(sk, 'chessboard_GRAY.png'), 'a/chessboard.png'),
        (os.path.join(sk, 'coffee.png'), 'b/camera.png'),  # a repeated name
        (os.path.join(sk, 'multipage.tif'), 'b/page.tif'),  # 10 x 15 grey
        (os.path.join(mpl, 'grace_hopper.jpg'), 'b/grace_hopper.jpg'),
        (os.path.join(mpl, 'Minduka_Present_Blue_Pack.png'), 'b/pack.png'),
        (os.path.join(skl, 'china.jpg'), 'c/CHINA.JPG'),
    ]


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp('photos')
    for source, target in wheel_photos():
        if not os.path.isfile(source):
            pytest.skip(f'photo not installed: {source}')
        os.makedirs(root / os.path.dirname(target), exist_ok=True)
        shutil.copy(source, root / target)
    files = sorted(str(p) for p in root.rglob('*') if p.is_file())
    modes = {Image.open(f).mode for f in files}
    sides = [max(Image.open(f).size) for f in files]
    assert {'L', 'RGB', 'RGBA'} <= modes and min(sides) < 50 < 1000 < max(
        sides)
    return str(root), files


@pytest.mark.slow
@pytest.mark.parametrize('family', sorted(FAMILY_CONFIGS))
def test_infer_tool_on_real_photos(family, photos, tmp_path):
    root, files = photos
    config = FAMILY_CONFIGS[family]
    ckpt = save_checkpoint(random_model(config), str(tmp_path / 'model.pth'))
    out, show = tmp_path / 'results.json', tmp_path / 'figures'
    log = run_tool('tools/infer.py', config, ckpt, root, '--topk', '3',
                   '--batch-size', '4', '--out', str(out), '--show-dir',
                   str(show))
    predictions = json.loads(out.read_text())['predictions']
    assert [p['image'] for p in predictions] == files
    figures = [p['figure'] for p in predictions]
    assert len(set(figures)) == len(files)  # none overwrote another
    assert sorted(os.listdir(show)) == sorted(
        os.path.basename(f) for f in figures)
    for p in predictions:
        assert len(p['pred_labels']) == 3
        assert np.isfinite(p['pred_scores']).all()
        figure = mmcv.imread(p['figure'])
        assert figure is not None and figure.std() > 0
        if family == 'spatial-context':
            assert len({q['label'] for q in p['patches']}) == 5
    # One printed line per photo (piped: no progress bar on these lines).
    lines = [line for line in log.splitlines() if line.startswith(root)]
    assert [line.split(': ')[0] for line in lines] == files
