"""SegNet-shaped encoder-decoder, narrow, random weights, exported to ONNX opset 17 with dynamic
batch/height/width -> test/fixtures/models/segnet_s.onnx.

SegNet (Badrinarayanan et al. 2015) upsamples by "unpooling": each decoder stage puts its values
back where the matching encoder max pooling found its maxima (MaxPool's Indices -> MaxUnpool, with
the pre-pool size as output_size so odd sizes come back exactly), then convs densify the sparse map.
Three stages of conv-BN-ReLU pairs (widths 8/16/24 instead of VGG-16's 64..512).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import randomize
from segformer import export


class Pool(torch.autograd.Function):
    """2x2 max pooling with indices. The ONNX form is MaxPool's Indices output as ONNX defines it
    (flat over N, C, H, W); torch 1.13 exports return_indices with its own per-plane offsets and
    cannot export max_unpool2d at all, so both ops carry their ONNX form here."""

    @staticmethod
    def forward(ctx, x):
        return F.max_pool2d(x, 2, 2, return_indices=True)

    @staticmethod
    def symbolic(g, x):
        return g.op('MaxPool', x, kernel_shape_i=[2, 2], strides_i=[2, 2], outputs=2)


class Unpool(torch.autograd.Function):
    """max_unpool2d back to the size of `ref` (the tensor before pooling): MaxUnpool with its shape."""

    @staticmethod
    def forward(ctx, x, idx, ref):
        return F.max_unpool2d(x, idx, 2, 2, output_size=ref.shape[2:])

    @staticmethod
    def symbolic(g, x, idx, ref):
        return g.op('MaxUnpool', x, idx, g.op('Shape', ref), kernel_shape_i=[2, 2], strides_i=[2, 2])


def cbr(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class SegNet(nn.Module):
    def __init__(self, widths=(8, 16, 24), classes=4):
        super().__init__()
        cins = (3,) + widths[:-1]
        self.enc = nn.ModuleList(nn.Sequential(cbr(ci, co), cbr(co, co)) for ci, co in zip(cins, widths))
        outs = (classes,) + widths[:-1]
        self.dec = nn.ModuleList(nn.Sequential(cbr(c, c), nn.Conv2d(c, o, 3, padding=1) if i == 0 else cbr(c, o))
                                 for i, (c, o) in enumerate(zip(widths, outs)))

    def forward(self, x):
        stack = []
        for e in self.enc:
            ref = e(x)
            x, idx = Pool.apply(ref)
            stack.append((idx, ref))
        for d in reversed(self.dec):
            idx, ref = stack.pop()
            x = d(Unpool.apply(x, idx, ref))
        return x


def make(outdir):
    torch.manual_seed(0)
    model = SegNet().eval()
    randomize(model, 13)
    export(model, 'segnet_s', outdir, torch.randn(1, 3, 64, 64))
