"""AlexNet/VGG16 feature nets, LPIPS and DISTS (frozen similarity metrics)."""
import pytest
import torch

from mmseg.models.similarity.alexnet import AlexNetFeatures
from mmseg.models.similarity.dists import DISTS
from mmseg.models.similarity.lpips import LPIPS, LPIPS_SCALE, LPIPS_SHIFT
from mmseg.models.similarity.vgg16 import VGG16Features
from mmseg.registry import MODELS
from mmseg.utils.checkpoint_io import CheckpointLoadError

# torchvision alexnet().state_dict() keys (features + classifier).
TORCHVISION_ALEXNET_FEATURE_KEYS = [
    'features.0.weight', 'features.0.bias', 'features.3.weight',
    'features.3.bias', 'features.6.weight', 'features.6.bias',
    'features.8.weight', 'features.8.bias', 'features.10.weight',
    'features.10.bias'
]
TORCHVISION_ALEXNET_CLASSIFIER_KEYS = [
    'classifier.1.weight', 'classifier.1.bias', 'classifier.4.weight',
    'classifier.4.bias', 'classifier.6.weight', 'classifier.6.bias'
]
# Keys of the LPIPS package's weights/v0.1/alex.pth.
LPIPS_LIN_KEYS = [f'lin{k}.model.1.weight' for k in range(5)]
LPIPS_LIN_SHAPES = [(1, c, 1, 1) for c in (64, 192, 384, 256, 256)]
# torchvision vgg16().features conv indices.
VGG16_CONV_IDX = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]


def _lpips(**kw):
    return LPIPS(pretrained=False, **kw)


def test_alexnet_keys_match_torchvision():
    assert list(AlexNetFeatures().state_dict()) == \
        TORCHVISION_ALEXNET_FEATURE_KEYS


def test_alexnet_returns_five_relu_outputs():
    outs = AlexNetFeatures()(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [64, 192, 384, 256, 256]
    assert all((o >= 0).all() for o in outs)


def test_lpips_keys_match_reference():
    keys = list(_lpips().state_dict())
    assert keys == ['net.' + k for k in TORCHVISION_ALEXNET_FEATURE_KEYS] + \
        LPIPS_LIN_KEYS
    shapes = [tuple(_lpips().state_dict()[k].shape) for k in LPIPS_LIN_KEYS]
    assert shapes == LPIPS_LIN_SHAPES


def _write_lpips_files(tmp_path):
    alex = {k: torch.randn_like(v) for k, v in
            AlexNetFeatures().state_dict().items()}
    # tiny stand-ins for the classifier tensors: only the keys matter here
    alex.update({k: torch.zeros(2) for k in
                 TORCHVISION_ALEXNET_CLASSIFIER_KEYS})
    lin = {k: torch.rand(s) for k, s in zip(LPIPS_LIN_KEYS, LPIPS_LIN_SHAPES)}
    torch.save(alex, tmp_path / 'alexnet.pth')
    torch.save(lin, tmp_path / 'alex.pth')
    return alex, lin


def test_lpips_loads_user_weight_files_dropping_classifier(tmp_path):
    alex, lin = _write_lpips_files(tmp_path)
    model = LPIPS(lin_weights=str(tmp_path / 'alex.pth'),
                  alexnet_weights=str(tmp_path / 'alexnet.pth'))
    state = model.state_dict()
    assert torch.equal(state['net.features.3.weight'],
                       alex['features.3.weight'])
    assert torch.equal(state['lin2.model.1.weight'],
                       lin['lin2.model.1.weight'])
    assert not any(p.requires_grad for p in model.parameters())


def test_lpips_missing_weight_file_names_it(tmp_path):
    _write_lpips_files(tmp_path)
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(CheckpointLoadError, match='nope.pth'):
        LPIPS(lin_weights=missing,
              alexnet_weights=str(tmp_path / 'alexnet.pth'))
    with pytest.raises(FileNotFoundError, match='lin_weights'):
        LPIPS(alexnet_weights=str(tmp_path / 'alexnet.pth'))


def test_lpips_identity_zero_and_symmetric():
    model = _lpips()
    x, y = torch.randn(2, 3, 64, 64), torch.randn(2, 3, 64, 64)
    assert torch.allclose(model(x, x), torch.zeros(2), atol=1e-6)
    d_xy, d_yx = model(x, y), model(y, x)
    assert d_xy.shape == (2, )
    assert (d_xy > 0).all()
    assert torch.allclose(d_xy, d_yx, atol=1e-6)


def test_lpips_stays_frozen_in_eval():
    model = _lpips()
    model.train()
    assert not model.training and not model.lin0.training
    x = torch.randn(1, 3, 64, 64, requires_grad=True)
    assert not model(x, x.detach() + 1).requires_grad


def test_lpips_input_range_switch():
    norm = dict(mean=[100.0, 110.0, 120.0], std=[50.0, 60.0, 70.0])
    x = torch.randn(1, 3, 4, 4)
    shift = torch.tensor(LPIPS_SHIFT).view(1, 3, 1, 1)
    scale = torch.tensor(LPIPS_SCALE).view(1, 3, 1, 1)
    pig = _lpips(input_range='normalized').prepare(x, norm)
    assert torch.allclose(pig, (x - shift) / scale)
    fixed = _lpips(input_range='minus_one_one').prepare(x, norm)
    mean = torch.tensor(norm['mean']).view(1, 3, 1, 1)
    std = torch.tensor(norm['std']).view(1, 3, 1, 1)
    expected = ((x * std + mean) / 127.5 - 1 - shift) / scale
    assert torch.allclose(fixed, expected, atol=1e-5)
    with pytest.raises(ValueError, match='input_range'):
        _lpips(input_range='zero_one')


def test_lpips_registered():
    model = MODELS.build(dict(type='LPIPS', pretrained=False))
    assert isinstance(model, LPIPS)


def test_vgg16_keys_match_torchvision():
    expected = [f'features.{i}.{p}' for i in VGG16_CONV_IDX
                for p in ('weight', 'bias')]
    assert list(VGG16Features().state_dict()) == expected


def test_dists_identity_zero_symmetric_and_loads_files(tmp_path):
    vgg = {k: 0.1 * torch.randn_like(v)
           for k, v in VGG16Features().state_dict().items()}
    vgg['classifier.0.weight'] = torch.zeros(2, 2)
    torch.save(vgg, tmp_path / 'vgg16.pth')
    torch.save({'alpha': torch.rand(1, 1475, 1, 1),
                'beta': torch.rand(1, 1475, 1, 1)}, tmp_path / 'dists.pt')
    model = MODELS.build(dict(
        type='DISTS', vgg_weights=str(tmp_path / 'vgg16.pth'),
        alpha_beta_weights=str(tmp_path / 'dists.pt')))
    assert isinstance(model, DISTS)
    x, y = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)
    assert torch.allclose(model(x, x), torch.zeros(2), atol=1e-5)
    assert torch.allclose(model(x, y), model(y, x), atol=1e-6)
    assert (model(x, y) > 0).all()


@pytest.mark.parametrize('train_dropout', [False, True])
def test_lpips_train_dropout_switch_changes_distances_only_when_on(
        train_dropout):
    """PIG's LPIPS drops half the lin-layer inputs at random while the UDA
    model trains (``train_dropout=True``); ours is deterministic."""
    from mmseg.models.uda.parts.eglp.class_similarity import ClassSimilarity
    lpips = _lpips(train_dropout=train_dropout)
    sim = ClassSimilarity(lpips=lpips)  # a child, like in the UDA model
    x, y = torch.randn(2, 3, 64, 64), torch.randn(2, 3, 64, 64)
    sim.train()  # what the runner does to the UDA model while training
    assert not lpips.training  # the metric itself stays frozen
    torch.manual_seed(0)
    first, second = lpips(x, y), lpips(x, y)
    assert torch.equal(first, second) != train_dropout
    sim.eval()
    evaluated = lpips(x, y)
    assert torch.equal(evaluated, lpips(x, y))
    if not train_dropout:
        assert torch.equal(first, evaluated)
    assert not any(p.requires_grad for p in lpips.parameters())
