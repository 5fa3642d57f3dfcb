# Old name kept as an alias (configs/README.md): the config is the one below.
_base_ = './selfattn_resnet101_8xb8-60e_coco-448px.py'
