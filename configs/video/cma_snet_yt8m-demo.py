# Old name kept as an alias (configs/README.md): the config is the one below.
_base_ = './cma_snet-w64_1xb32-coslr-20e_yt8m-demo.py'
