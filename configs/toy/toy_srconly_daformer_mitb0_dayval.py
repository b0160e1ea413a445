# Evaluation of toy runs on the labelled *day* val split (the day oracle's own
# domain): tools/test.py configs/toy/toy_srconly_daformer_mitb0_dayval.py CKPT
# --eval mIoU. Training with this config is the same as the source-only config.
_base_ = ['./toy_srconly_daformer_mitb0.py']
toy_day_val = dict(
    type='CityscapesDataset',
    data_root='data/toy/cityscapes',
    img_dir='leftImg8bit/val',
    ann_dir='gtFine/val',
    pipeline={{_base_.test_pipeline}})
data = dict(val=toy_day_val, test=toy_day_val)
name = 'toy_srconly_daformer_mitb0_dayval'
