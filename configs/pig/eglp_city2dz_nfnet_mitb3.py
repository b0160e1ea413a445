# EGLP with a cheaper Night-Focused Network: NFNet on MiT-b3 instead of
# MiT-b5 (weights pretrained/mit_b3.pth), lowering the memory of the
# five-network setup (see the memory table in the README).
_base_ = ['eglp_city2dz.py']
uda = dict(
    nfnet_model=dict(
        pretrained='pretrained/mit_b3.pth', backbone=dict(type='mit_b3')))
name = 'eglp_city2dz_nfnet-mitb3'
