# Old name kept as an alias (configs/README.md): the config is the one below.
_base_ = './cma_resnext101-32x4d_8xb8-60e_coco-448px.py'
