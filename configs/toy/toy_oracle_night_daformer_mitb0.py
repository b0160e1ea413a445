# Night oracle on the toy data: the source-only recipe (same model, schedule,
# crops, rare class sampling, toy-pretrained backbone) trained with labels on
# the labelled night oracle train split (other night scenes than the UDA target
# train split; generated for this config only, no UDA config reads it).
# Evaluated on night val. It measures how learnable the toy night is: see the
# README's "Toy data" section.
_base_ = ['./toy_srconly_daformer_mitb0.py']
data = dict(
    train=dict(
        source=dict(
            _delete_=True,
            type='DarkZurichDataset',
            data_root='data/toy/night_oracle',
            img_dir='rgb_anon/train/night',
            ann_dir='gt/train/night',
            pipeline={{_base_.source_pipeline}})))
name = 'toy_oracle_night_daformer_mitb0'
