# Final DAFormer/HRDA/MIC setting: teacher alpha 0.999 and ImageNet feature
# distance on thing classes.
_base_ = ['dacs.py']
uda = dict(
    alpha=0.999,
    imnet_feature_dist_lambda=0.005,
    # by name (train ids 6, 7, 11..18 of Cityscapes); another class set
    # names its own "thing" classes here
    imnet_feature_dist_classes=[
        'traffic light', 'traffic sign', 'person', 'rider', 'car', 'truck',
        'bus', 'train', 'motorcycle', 'bicycle'],
    imnet_feature_dist_scale_min_ratio=0.75)
