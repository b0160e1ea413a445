# A binary class set on the toy data: the 19 toy classes merged into static
# and dynamic (configs/custom/toy2_mapping.csv), day -> night with HRDA: the
# 5-class example with another class set (every place that names classes,
# label files and rare-class statistics changes; the recipe stays).
_base_ = ['toy5_hrda_daformer_mitb0.py']
classes = ('static', 'dynamic')
palette = [[70, 70, 70], [220, 20, 60]]
night_val = dict(seg_map_suffix='_gt_toy2.png', classes=classes,
                 palette=palette)
data = dict(
    train=dict(
        source=dict(seg_map_suffix='_gtFine_toy2.png', classes=classes,
                    palette=palette),
        target=dict(classes=classes, palette=palette),
        rare_class_sampling=dict(stats_dir='data/toy/cityscapes/toy2')),
    val=night_val,
    test=night_val)
model = dict(decode_head=dict(num_classes=len(classes)))
name = 'toy2_hrda_daformer_mitb0'
