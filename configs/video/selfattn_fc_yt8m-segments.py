# Old name kept as an alias (configs/README.md): the config is the one below.
_base_ = './selfattn_fc_1xb256-10e_yt8m-segments.py'
