# EGLP (as eglp_city2dz.py) with the class-prototype DNIS instead of LPIPS:
# each class's mean feature in the source crop (GT) against its mean in the
# target crop (teacher pseudo-label), on a frozen copy of the ImageNet MiT-B5
# the student starts from. One encoder pass per image instead of 19 LPIPS
# passes per sample, and no AlexNet/LPIPS weight files.
_base_ = ['eglp_city2dz.py']
uda = dict(
    dms=dict(
        similarity=dict(
            _delete_=True,
            metric='prototype',
            ema=0.99,
            prototype=dict(
                type='ClassPrototypeDistance',
                encoder=dict(
                    type='mit_b5', pretrained='pretrained/mit_b5.pth')))))
name = 'eglp_protodnis_city2dz'
