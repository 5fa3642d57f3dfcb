# GloVe label vectors for PASCAL VOC's 20 class names: three are not words,
# so GloVe looks up their parts. A config adds this base next to its dataset
# base and sets
#   custom_hooks = [dict(type='LabelStateHook', graph=...,
#                        embedding={{_base_.voc_glove}})]
voc_glove = dict(
    type='glove',
    synonyms=dict(diningtable='dining table', pottedplant='potted plant',
                  tvmonitor='tv monitor'))
