# Old name kept as an alias (configs/README.md): the config is the one below.
_base_ = './mscma_resnet101_8xb8-60e_nus-wide-448px.py'
