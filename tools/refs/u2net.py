"""U^2-Net-shaped salient-object network, narrow, random weights, exported to ONNX opset 17 with
dynamic batch/height/width -> test/fixtures/models/u2net_s.onnx.

The structure of U^2-Net (Qin et al. 2020, the background-removal nets' backbone): nested RSU
blocks (a small U-Net inside each stage: conv-BN-ReLU, max pooling with ceil_mode, a dilated conv at
the bottom, decoder convs on concatenations, bilinear upsampling to the skip's size, a residual
add), RSU-4F with dilations 1/2/4/8 instead of pooling, an outer U of six stages, six side outputs
upsampled to the input size, fused by a 1x1 conv, seven sigmoid outputs (fused first). Channels are
cut (in 8, mid 4) and the RSU heights shortened (7/6/5/4 -> 5/4/4/3) to keep the fixture small.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import randomize
from segformer import export


class CBR(nn.Sequential):
    def __init__(self, cin, cout, dilation=1):
        super().__init__(nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def up_to(x, ref):
    return F.interpolate(x, size=ref.shape[2:], mode='bilinear', align_corners=False)


class RSU(nn.Module):
    """RSU-L: L-1 encoder levels with pooling (L-2 pools), a dilated bottom, a decoder back up."""

    def __init__(self, height, cin, mid, cout):
        super().__init__()
        self.inp = CBR(cin, cout)
        self.enc = nn.ModuleList([CBR(cout, mid)] + [CBR(mid, mid) for _ in range(height - 2)])
        self.bottom = CBR(mid, mid, dilation=2)
        self.dec = nn.ModuleList([CBR(2 * mid, mid) for _ in range(height - 2)] + [CBR(2 * mid, cout)])

    def forward(self, x):
        hx = self.inp(x)
        skips, y = [], hx
        for i, e in enumerate(self.enc):
            y = e(y if i == 0 else F.max_pool2d(y, 2, 2, ceil_mode=True))
            skips.append(y)
        y = self.bottom(y)
        for i, d in enumerate(self.dec):
            s = skips[-1 - i]
            y = d(torch.cat([up_to(y, s) if i else y, s], 1))
        return y + hx


class RSU4F(nn.Module):
    """RSU-4F: no pooling, dilations 1/2/4 then 8 at the bottom, back down 4/2/1."""

    def __init__(self, cin, mid, cout):
        super().__init__()
        self.inp = CBR(cin, cout)
        self.e1, self.e2, self.e3 = CBR(cout, mid, 1), CBR(mid, mid, 2), CBR(mid, mid, 4)
        self.bottom = CBR(mid, mid, 8)
        self.d3, self.d2, self.d1 = CBR(2 * mid, mid, 4), CBR(2 * mid, mid, 2), CBR(2 * mid, cout, 1)

    def forward(self, x):
        hx = self.inp(x)
        a = self.e1(hx)
        b = self.e2(a)
        c = self.e3(b)
        d = self.bottom(c)
        y = self.d3(torch.cat([d, c], 1))
        y = self.d2(torch.cat([y, b], 1))
        return self.d1(torch.cat([y, a], 1)) + hx


class U2Net(nn.Module):
    def __init__(self, c=8, m=4):
        super().__init__()
        self.en = nn.ModuleList([RSU(5, 3, m, c), RSU(4, c, m, c), RSU(4, c, m, c), RSU(3, c, m, c), RSU4F(c, m, c), RSU4F(c, m, c)])
        self.de = nn.ModuleList([RSU4F(2 * c, m, c), RSU(3, 2 * c, m, c), RSU(4, 2 * c, m, c), RSU(4, 2 * c, m, c), RSU(5, 2 * c, m, c)])
        self.side = nn.ModuleList(nn.Conv2d(c, 1, 3, padding=1) for _ in range(6))
        self.fuse = nn.Conv2d(6, 1, 1)

    def forward(self, x):
        feats, y = [], x
        for i, e in enumerate(self.en):
            y = e(y if i == 0 else F.max_pool2d(y, 2, 2, ceil_mode=True) if i < 5 else y)
            feats.append(y)
        outs = [y]
        for i, d in enumerate(self.de):
            s = feats[-2 - i]
            y = d(torch.cat([up_to(y, s), s], 1))
            outs.append(y)
        sides = [up_to(side(o), x) for side, o in zip(self.side, outs[::-1])]
        fused = self.fuse(torch.cat(sides, 1))
        return torch.sigmoid(torch.cat([fused] + sides, 1))


def make(outdir):
    torch.manual_seed(0)
    model = U2Net().eval()
    randomize(model, 12)
    export(model, 'u2net_s', outdir, torch.randn(1, 3, 64, 64))
