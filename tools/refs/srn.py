"""Spatial Regularization Network (Zhu, Li, Ouyang, Yu, Wang, CVPR 2017) for multi-label
classification (src/models/srn.ts). Names:
  resnet.*        the trunk: torchvision's ResNet structure and names (conv1, bn1, layer1..layer4,
                  fc), stem width configurable; resnet.fc on the pooled layer4 is the main
                  classifier (scores y_cls). At width 64, BasicBlock [2, 2, 2, 2] the resnet.* keys
                  are exactly torchvision resnet18(num_classes=L)'s (saved as srn.torchvision-keys.json).
  attention.0/2/4 f_att on the layer3 ("res4") features: 1x1 conv, ReLU, 3x3 conv, ReLU, 1x1 conv
                  to L maps; softmax over space per label -> attention maps A.
  confidence      1x1 conv to L confidence maps S.
  spatial.0/2/4   f_sr on U = sigmoid(S) * A: 1x1 conv, ReLU, 1x1 conv, ReLU, then a grouped conv
                  whose kernel covers the whole map (14x14 in the paper; 4 outputs per group, one
                  group per channel), ReLU.
  fc_sr           linear to L (scores y_sr).
Output: y = alpha * y_cls + (1 - alpha) * y_sr (the paper fixes alpha = 0.5), and A.
"""
import json
import os

import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck

from common import randomize, save_case


class ResNet(nn.Module):
    """torchvision.models.ResNet's structure and names with the stem width configurable (torchvision fixes 64)."""

    def __init__(self, block, layers, width=64, num_classes=1000):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        for i in range(4):
            setattr(self, f'layer{i + 1}', self._make_layer(block, width * 2 ** i, layers[i], 1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride):
        down = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            down = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False), nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, down)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)


def out_size(n):
    """Spatial size of layer3's output (stride 16): conv7/2 pad 3, maxpool 3/2 pad 1, two stride-2 stages."""
    n = (n - 1) // 2 + 1
    n = (n - 1) // 2 + 1
    return (((n - 1) // 2 + 1) - 1) // 2 + 1


class SRN(nn.Module):
    def __init__(self, num_classes, block='basic', layers=(2, 2, 2, 2), width=64, size=(224, 224), att_channels=512, sr_channels=512, alpha=0.5):
        super().__init__()
        blk = BasicBlock if block == 'basic' else Bottleneck
        self.alpha = alpha
        self.resnet = ResNet(blk, layers, width, num_classes)
        c3, L = width * 4 * blk.expansion, num_classes
        h, w = out_size(size[0]), out_size(size[1])
        self.attention = nn.Sequential(
            nn.Conv2d(c3, att_channels, 1), nn.ReLU(inplace=True),
            nn.Conv2d(att_channels, att_channels, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(att_channels, L, 1))
        self.confidence = nn.Conv2d(c3, L, 1)
        self.spatial = nn.Sequential(
            nn.Conv2d(L, sr_channels, 1), nn.ReLU(inplace=True),
            nn.Conv2d(sr_channels, sr_channels, 1), nn.ReLU(inplace=True),
            nn.Conv2d(sr_channels, 4 * sr_channels, (h, w), groups=sr_channels), nn.ReLU(inplace=True))
        self.fc_sr = nn.Linear(4 * sr_channels, L)

    def forward(self, x):
        r = self.resnet
        x = r.maxpool(r.relu(r.bn1(r.conv1(x))))
        f3 = r.layer3(r.layer2(r.layer1(x)))
        y_cls = r.fc(torch.flatten(r.avgpool(r.layer4(f3)), 1))
        a = self.attention(f3)
        att = F.softmax(a.flatten(2), dim=-1).view_as(a)
        u = torch.sigmoid(self.confidence(f3)) * att
        y_sr = self.fc_sr(torch.flatten(self.spatial(u), 1))
        return self.alpha * y_cls + (1 - self.alpha) * y_sr, att


def make(outdir):
    cases = [  # name, kwargs, input shape
        ('srn', dict(num_classes=5, width=4, layers=(1, 1, 1, 1), size=(64, 64), att_channels=8, sr_channels=8), (1, 3, 64, 64)),
        ('srn_bottleneck', dict(num_classes=6, block='bottleneck', width=4, layers=(1, 2, 1, 1), size=(48, 80), att_channels=6, sr_channels=4, alpha=0.3), (2, 3, 48, 80)),
    ]
    for i, (name, kw, shape) in enumerate(cases):
        m = randomize(SRN(**kw), 500 + i)
        x = torch.randn(shape, generator=torch.Generator().manual_seed(600 + i))
        with torch.no_grad():
            scores, att = m(x)
        save_case(outdir, name, m, {'x': x}, {'scores': scores, 'attention': att})
    # the trunk at the default config is torchvision's resnet18, names and shapes
    ours = SRN(num_classes=20).resnet.state_dict()
    tv = torchvision.models.resnet18(num_classes=20).state_dict()
    assert [(k, tuple(v.shape)) for k, v in ours.items()] == [(k, tuple(v.shape)) for k, v in tv.items()]
    with open(os.path.join(outdir, 'srn.torchvision-keys.json'), 'w') as f:
        json.dump({'resnet18_num_classes_20': list(tv.keys())}, f)
