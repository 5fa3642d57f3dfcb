# NUS-WIDE, 81 concepts, images without labels removed; 448 px as for COCO.
# Expected layout under data/nus-wide: Concepts81.txt, ImageList/
# {Train,Test}Imagelist.txt, Groundtruth/TrainTestLabels/
# Labels_{concept}_{Train,Test}.txt, Flickr/<folder>/<image>.jpg
_base_ = ['./coco_bs8_448.py']

dataset_type = 'NUSWIDE'
data_root = 'data/nus-wide'
data_preprocessor = dict(num_classes=81)
_common = dict(
    _delete_=True,
    type=dataset_type,
    data_root=data_root,
    concepts='Concepts81.txt',
    label_dir='Groundtruth/TrainTestLabels',
    data_prefix='Flickr',
    drop_empty=True)
train_dataloader = dict(
    dataset=dict(
        **_common,
        image_list='ImageList/TrainImagelist.txt',
        label_pattern='Labels_{concept}_Train.txt',
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        **_common,
        image_list='ImageList/TestImagelist.txt',
        label_pattern='Labels_{concept}_Test.txt',
        pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
