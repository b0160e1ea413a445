# EBDA entropy balancing on the toy HRDA setting.
_base_ = ['toy_hrda_daformer_mitb0.py']
uda = dict(extra_losses=[dict(type='EntropyBalance')])
name = 'toy_ebda_hrda_daformer_mitb0'
