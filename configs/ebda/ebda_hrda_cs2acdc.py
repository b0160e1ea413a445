# EBDA on HRDA: the entropy balance loss on the fused HRDA output of the mixed
# batch (our adoption: the released code, vron8632/EB_DA, is DAFormer only),
# Cityscapes -> ACDC night.
_base_ = ['../hrda/csHR2acdcHR_hrda.py']
uda = dict(
    extra_losses=[
        dict(type='EntropyBalance', loss_weight=0.1, target_entropy=0.4)
    ])
name = 'ebda_hrda_csHR2acdcHR'
