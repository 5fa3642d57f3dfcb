# Old name kept as an alias (configs/README.md): the config is the one below.
_base_ = './cma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py'
