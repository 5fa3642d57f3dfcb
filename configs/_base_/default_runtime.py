# Runtime shared by every mmcma config.
default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmcma'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=2,
        save_best='multi-label/mAP', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # tools/test.py --show-dir / --show turn it on: image + label scores.
    visualization=dict(type='MultiLabelVisualizationHook', enable=False),
    # Checkpoints carry the random generators: resuming continues exactly.
    random_state=dict(type='RandomStateHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
# mmpretrain's UniversalVisualizer plus multi-label figures.
visualizer = dict(type='AttentionVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
