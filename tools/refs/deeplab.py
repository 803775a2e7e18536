"""DeepLab v3 / v3+ references (src/models/deeplab.ts, src/models/resnet.ts).

v3 is torchvision's `deeplabv3_resnet50` structure with the backbone width, block, depths, output
stride, ASPP rates and channels made configurable; its state_dict names are torchvision's:
  backbone.conv1/bn1/layer1..layer4 (ResNet; fc and avgpool dropped as IntermediateLayerGetter does)
  classifier.0 = ASPP (torchvision's own class: convs.0 1x1, convs.1-3 atrous 3x3, convs.4 pooling,
  project), classifier.1/2 = 3x3 conv + BN, classifier.4 = 1x1 conv to the classes.
At the default config (width 64, Bottleneck [3, 4, 6, 3], output stride 8, rates 12/24/36, 256
channels, 21 classes) make() checks that the keys and shapes equal
torchvision.models.segmentation.deeplabv3_resnet50(weights=None, weights_backbone=None,
aux_loss=None)'s, and that torchvision's module gives the same output with the same weights;
the key list is saved as deeplab.torchvision-keys.json for the TS name check.

MobileNetV3-Large backbone: torchvision's own mobilenet_v3_large(width_mult, dilated=True).features
behind an IntermediateLayerGetter, as deeplabv3_mobilenet_v3_large builds it (output stride 16,
ASPP rates 12/24/36 there); its default config is checked against that model the same way
(deeplab.torchvision-mobilenet-keys.json). v3+ takes features[3] (stride 4) as the low-level feature.

torchvision has no v3+; DeepLabV3Plus below defines its names:
  backbone.*                 the same ResNet (layer1 output is the low-level feature)
  aspp.*                     torchvision's ASPP (convs.*, project.*)
  decoder.reduce.0/1         1x1 conv (no bias) + BN to 48 channels, ReLU
  decoder.fuse.0/1, 3/4      two 3x3 conv (no bias) + BN + ReLU on concat(upsampled ASPP, reduced)
  decoder.classifier         1x1 conv (bias) to the classes
The ASPP output is upsampled bilinearly (align_corners=False) to the low-level feature's size, the
logits to the input size.

BasicBlock with dilation (torchvision refuses it): both 3x3 convs use the block's dilation
(padding = dilation), the first block of a dilated stage the previous dilation, as Bottleneck does.
"""
import json
import os

import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models._utils import IntermediateLayerGetter
from torchvision.models.resnet import Bottleneck
from torchvision.models.segmentation.deeplabv3 import ASPP

from common import randomize, save_case


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, dilation=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, padding=dilation, dilation=dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + idt)


class ResNet(nn.Module):
    """torchvision.models.ResNet's structure and names (no avgpool/fc), base width configurable."""

    def __init__(self, block, layers, width=64, replace_stride_with_dilation=(False, False, False)):
        super().__init__()
        self.inplanes, self.dilation = width, 1
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, width, layers[0])
        for i in range(3):
            setattr(self, f'layer{i + 2}', self._make_layer(block, width * 2 ** (i + 1), layers[i + 1], 2, replace_stride_with_dilation[i]))

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        prev = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        down = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            down = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False), nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, down, dilation=prev)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, dilation=self.dilation) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        low = self.layer1(x)
        return low, self.layer4(self.layer3(self.layer2(low)))


class MobileNetFeatures(IntermediateLayerGetter):
    """torchvision's mobilenet_v3_large(width_mult, dilated=True).features as deeplabv3_mobilenet_v3_large
    takes it (output stride 16): low = features[3] (the last output-stride-4 block), out = features[16]."""

    def __init__(self, width_mult=1.0):
        features = torchvision.models.mobilenet_v3_large(width_mult=width_mult, dilated=True).features
        super().__init__(features, {'3': 'low', '16': 'out'})
        self.channels = features[16].out_channels, features[3].out_channels

    def forward(self, x):
        d = super().forward(x)
        return d['low'], d['out']


def backbone(block='bottleneck', layers=(3, 4, 6, 3), width=64, output_stride=8, width_mult=1.0):
    if block == 'mobilenet':
        assert output_stride == 16
        m = MobileNetFeatures(width_mult)
        return (m, *m.channels)
    b = Bottleneck if block == 'bottleneck' else BasicBlock
    return ResNet(b, layers, width, (False, output_stride == 8, True)), width * 8 * b.expansion, width * b.expansion


class DeepLabV3(nn.Module):
    def __init__(self, num_classes=21, block='bottleneck', layers=(3, 4, 6, 3), width=64, output_stride=8, rates=(12, 24, 36), channels=256, width_mult=1.0):
        super().__init__()
        self.backbone, cin, _ = backbone(block, layers, width, output_stride, width_mult)
        self.classifier = nn.Sequential(
            ASPP(cin, list(rates), channels),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
            nn.Conv2d(channels, num_classes, 1))

    def forward(self, x):
        return F.interpolate(self.classifier(self.backbone(x)[1]), size=x.shape[-2:], mode='bilinear', align_corners=False)


class Decoder(nn.Module):
    def __init__(self, low_channels, aspp_channels, num_classes, reduce=48, channels=256):
        super().__init__()
        self.reduce = nn.Sequential(nn.Conv2d(low_channels, reduce, 1, bias=False), nn.BatchNorm2d(reduce), nn.ReLU())
        self.fuse = nn.Sequential(
            nn.Conv2d(aspp_channels + reduce, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU())
        self.classifier = nn.Conv2d(channels, num_classes, 1)

    def forward(self, x, low):
        low = self.reduce(low)
        x = F.interpolate(x, size=low.shape[-2:], mode='bilinear', align_corners=False)
        return self.classifier(self.fuse(torch.cat([x, low], 1)))


class DeepLabV3Plus(nn.Module):
    def __init__(self, num_classes=21, block='bottleneck', layers=(3, 4, 6, 3), width=64, output_stride=16, rates=(6, 12, 18),
                 channels=256, reduce=48, decoder_channels=256, width_mult=1.0):
        super().__init__()
        self.backbone, cin, low = backbone(block, layers, width, output_stride, width_mult)
        self.aspp = ASPP(cin, list(rates), channels)
        self.decoder = Decoder(low, channels, num_classes, reduce, decoder_channels)

    def forward(self, x):
        low, high = self.backbone(x)
        return F.interpolate(self.decoder(self.aspp(high), low), size=x.shape[-2:], mode='bilinear', align_corners=False)


def check_torchvision(outdir, tv_name, json_name, **kw):
    """Default config == torchvision's model: names, shapes, and outputs with shared weights."""
    tv = getattr(torchvision.models.segmentation, tv_name)(weights=None, weights_backbone=None, aux_loss=None).eval()
    ours = randomize(DeepLabV3(**kw), 0)
    a = [(k, list(v.shape)) for k, v in tv.state_dict().items()]
    b = [(k, list(v.shape)) for k, v in ours.state_dict().items()]
    assert a == b, f'state_dict keys/shapes differ from torchvision {tv_name}'
    tv.load_state_dict(ours.state_dict())
    x = torch.randn(1, 3, 65, 65, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        err = (tv(x)['out'] - ours(x)).abs().max().item()
    assert err < 1e-5, f'output differs from torchvision by {err}'
    print(f'   torchvision {tv_name}: {len(a)} keys equal, output max diff {err:.2e}')
    with open(os.path.join(outdir, json_name), 'w') as f:
        f.write('[\n' + ',\n'.join(json.dumps([k, s]) for k, s in a) + '\n]\n')


# tiny cases: width 4, one block per stage, 16 ASPP channels, 5 classes
TINY = dict(num_classes=5, layers=(1, 1, 1, 1), width=4, channels=16)
CASES = {
    'deeplabv3_os8': (DeepLabV3, dict(TINY, output_stride=8, rates=(12, 24, 36)), (65, 65)),
    'deeplabv3_os16': (DeepLabV3, dict(TINY, output_stride=16, rates=(6, 12, 18)), (57, 75)),
    'deeplabv3_basic_os8': (DeepLabV3, dict(TINY, block='basic', output_stride=8, rates=(6, 12, 18)), (64, 64)),
    'deeplabv3plus_os16': (DeepLabV3Plus, dict(TINY, output_stride=16, rates=(6, 12, 18), reduce=8, decoder_channels=16), (65, 65)),
    'deeplabv3plus_os8': (DeepLabV3Plus, dict(TINY, output_stride=8, rates=(12, 24, 36), reduce=8, decoder_channels=16), (50, 70)),
    'deeplabv3_mobilenet': (DeepLabV3, dict(TINY, block='mobilenet', width_mult=0.1, output_stride=16, channels=8), (65, 65)),
    'deeplabv3plus_mobilenet': (DeepLabV3Plus, dict(TINY, block='mobilenet', width_mult=0.1, output_stride=16, channels=8, reduce=8, decoder_channels=16), (64, 80)),
}


def make(outdir):
    os.makedirs(outdir, exist_ok=True)
    check_torchvision(outdir, 'deeplabv3_resnet50', 'deeplab.torchvision-keys.json')
    check_torchvision(outdir, 'deeplabv3_mobilenet_v3_large', 'deeplab.torchvision-mobilenet-keys.json', block='mobilenet', output_stride=16)
    for i, (name, (cls, kw, (h, w))) in enumerate(CASES.items()):
        torch.manual_seed(100 + i)
        model = randomize(cls(**kw), 100 + i)
        x = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(200 + i))
        with torch.no_grad():
            y = model(x)
        save_case(outdir, name, model, {'input': x}, {'out': y})
        print(f'   {name}: input {list(x.shape)} -> {list(y.shape)}, max |out| {y.abs().max():.3g}')
