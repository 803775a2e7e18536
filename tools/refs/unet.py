"""U-Net (Ronneberger et al. 2015) with the module names of milesial/Pytorch-UNet (inc, down<i>,
up<i>, outc; DoubleConv = conv3x3 (no bias) + BN + ReLU twice), made configurable: base width
(64 in the original) and depth (4 down/up steps in the original); `bilinear` picks
Upsample(align_corners=True) + a halving DoubleConv instead of ConvTranspose2d(2, stride 2).
Padding 1 keeps sizes; inputs not divisible by 2**depth are handled as upstream does (F.pad the
upsampled map to the skip's size before the concat).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import randomize, save_case


class DoubleConv(nn.Module):
    def __init__(self, cin, cout, mid=None):
        super().__init__()
        mid = mid or cout
        self.double_conv = nn.Sequential(
            nn.Conv2d(cin, mid, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, cout, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(cin, cout))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, cin, cout, bilinear=False):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
            self.conv = DoubleConv(cin, cout, cin // 2)
        else:
            self.up = nn.ConvTranspose2d(cin, cin // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(cin, cout)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        dy, dx = x2.size(2) - x1.size(2), x2.size(3) - x1.size(3)
        x1 = F.pad(x1, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([x2, x1], dim=1))


class OutConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size=1)

    def forward(self, x):
        return self.conv(x)


class UNet(nn.Module):
    def __init__(self, n_channels=3, n_classes=2, bilinear=False, width=64, depth=4):
        super().__init__()
        factor = 2 if bilinear else 1
        self.depth = depth
        self.inc = DoubleConv(n_channels, width)
        for i in range(1, depth + 1):
            cout = width << i
            setattr(self, f'down{i}', Down(cout // 2, cout // factor if i == depth else cout))
        for i in range(1, depth + 1):
            cin = width << (depth - i + 1)
            setattr(self, f'up{i}', Up(cin, cin // 2 // factor if i < depth else cin // 2, bilinear))
        self.outc = OutConv(width, n_classes)

    def forward(self, x):
        skips = [self.inc(x)]
        for i in range(1, self.depth + 1):
            skips.append(getattr(self, f'down{i}')(skips[-1]))
        x = skips.pop()
        for i in range(1, self.depth + 1):
            x = getattr(self, f'up{i}')(x, skips.pop())
        return self.outc(x)


def make(outdir):
    import json
    import os
    torch.manual_seed(0)
    cases = [  # name, module kwargs, input shape
        ('unet', dict(n_channels=3, n_classes=3, width=4, depth=4), (1, 3, 32, 32)),
        ('unet_bilinear_odd', dict(n_channels=1, n_classes=2, width=4, depth=3, bilinear=True), (2, 1, 27, 21)),
        ('unet_odd', dict(n_channels=2, n_classes=4, width=4, depth=2), (1, 2, 19, 30)),
    ]
    for i, (name, kw, shape) in enumerate(cases):
        m = randomize(UNet(**kw), 100 + i)
        x = torch.randn(shape, generator=torch.Generator().manual_seed(200 + i))
        with torch.no_grad():
            save_case(outdir, name, m, {'x': x}, {'y': m(x)})
    # parameter names of the original (width 64, depth 4), both variants
    names = {v: list(UNet(3, 2, bilinear=b).state_dict().keys()) for v, b in (('transposed', False), ('bilinear', True))}
    with open(os.path.join(outdir, 'unet.names.json'), 'w') as f:
        json.dump(names, f)
