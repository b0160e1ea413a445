# DeepLabV2 on a dilated ResNet-101-V1c.
_base_ = ['deeplabv2_r50-d8.py']

model = dict(
    pretrained='pretrained/resnet101_v1c.pth', backbone=dict(depth=101))
