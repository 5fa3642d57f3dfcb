# ML-GCN's released training augmentation at 448 px: TSN's multi-scale crop
# (sides 1.0 / 0.875 / 0.75 / 0.66 / 0.5 of the short side, at most 2 scales
# apart, 13 fixed places) resized to 448 x 448, then a horizontal flip. A
# config adds this base next to its dataset base and sets
#   train_dataloader = dict(dataset=dict(
#       pipeline={{_base_.mlgcn_train_pipeline}}))
mlgcn_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiScaleCrop', scale=448,
         scales=(1.0, 0.875, 0.75, 0.66, 0.5), max_distort=2),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
