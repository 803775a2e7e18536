"""SegFormer-B0-shaped network (MiT encoder + all-MLP decoder), narrow, random weights, exported to
ONNX opset 17 with dynamic batch/height/width -> test/fixtures/models/segformer_s.onnx.

The structure of SegFormer (Xie et al. 2021) as the Hugging Face / mmseg implementations write it:
overlapping patch embeddings (strided convs + LayerNorm), efficient self-attention with a spatial
reduction conv (sr_ratio 8/4/2/1), Mix-FFN (Linear, 3x3 depthwise conv, GELU, Linear), a LayerNorm
per stage; the decoder projects each stage to one width, upsamples bilinearly to 1/4, concatenates,
fuses with a 1x1 conv + BN + ReLU and classifies. Widths are cut (B0: 32/64/160/256 and decoder
256, here 16/24/32/48 and 24) to keep the fixture small; depths are 1 per stage.
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from common import randomize


class PatchEmbed(nn.Module):
    def __init__(self, cin, cout, k, s):
        super().__init__()
        self.proj = nn.Conv2d(cin, cout, k, s, k // 2)
        self.norm = nn.LayerNorm(cout)

    def forward(self, x):
        x = self.proj(x)
        n, c, h, w = x.shape
        return self.norm(x.flatten(2).transpose(1, 2)), h, w


class Attention(nn.Module):
    def __init__(self, dim, heads, sr):
        super().__init__()
        self.heads, self.scale, self.sr_ratio = heads, (dim // heads) ** -0.5, sr
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, dim * 2)
        self.proj = nn.Linear(dim, dim)
        if sr > 1:
            self.sr = nn.Conv2d(dim, dim, sr, sr)
            self.norm = nn.LayerNorm(dim)

    def forward(self, x, h, w):
        n, t, c = x.shape
        q = self.q(x).reshape(n, t, self.heads, c // self.heads).permute(0, 2, 1, 3)
        if self.sr_ratio > 1:
            x = self.sr(x.transpose(1, 2).reshape(n, c, h, w)).reshape(n, c, -1).transpose(1, 2)
            x = self.norm(x)
        kv = self.kv(x).reshape(n, -1, 2, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]
        a = (q @ k.transpose(-2, -1)) * self.scale
        a = a.softmax(dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(n, t, c))


class MixFFN(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dw = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x, h, w):
        x = self.fc1(x)
        n, t, c = x.shape
        x = self.dw(x.transpose(1, 2).reshape(n, c, h, w)).flatten(2).transpose(1, 2)
        return self.fc2(F.gelu(x))


class Block(nn.Module):
    def __init__(self, dim, heads, sr):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), Attention(dim, heads, sr)
        self.norm2, self.ffn = nn.LayerNorm(dim), MixFFN(dim, dim * 4)

    def forward(self, x, h, w):
        x = x + self.attn(self.norm1(x), h, w)
        return x + self.ffn(self.norm2(x), h, w)


class SegFormer(nn.Module):
    def __init__(self, widths=(16, 24, 32, 48), heads=(1, 2, 2, 4), srs=(8, 4, 2, 1), decoder=24, classes=5):
        super().__init__()
        cins = (3,) + widths[:-1]
        self.embeds = nn.ModuleList(PatchEmbed(ci, co, 7 if i == 0 else 3, 4 if i == 0 else 2)
                                    for i, (ci, co) in enumerate(zip(cins, widths)))
        self.blocks = nn.ModuleList(Block(c, hd, sr) for c, hd, sr in zip(widths, heads, srs))
        self.norms = nn.ModuleList(nn.LayerNorm(c) for c in widths)
        self.linears = nn.ModuleList(nn.Linear(c, decoder) for c in widths)
        self.fuse = nn.Sequential(nn.Conv2d(4 * decoder, decoder, 1, bias=False), nn.BatchNorm2d(decoder), nn.ReLU())
        self.classify = nn.Conv2d(decoder, classes, 1)

    def forward(self, x):
        n = x.shape[0]
        feats = []
        for embed, block, norm in zip(self.embeds, self.blocks, self.norms):
            t, h, w = embed(x)
            t = norm(block(t, h, w))
            x = t.transpose(1, 2).reshape(n, -1, h, w)
            feats.append(x)
        size = feats[0].shape[2:]
        ups = []
        for f, lin in zip(feats, self.linears):
            p = lin(f.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(n, -1, f.shape[2], f.shape[3])
            ups.append(F.interpolate(p, size=size, mode='bilinear', align_corners=False))
        return self.classify(self.fuse(torch.cat(ups[::-1], dim=1)))


def export(model, name, outdir, sample):
    path = os.path.join(outdir, f'{name}.onnx')
    dyn = {'input': {0: 'N', 2: 'H', 3: 'W'}, 'out': {0: 'N', 2: 'h', 3: 'w'}}
    torch.onnx.export(model, sample, path, opset_version=17, input_names=['input'], output_names=['out'],
                      dynamic_axes=dyn, do_constant_folding=True)
    print(f'{path}: {os.path.getsize(path)} bytes')


def make(outdir):
    torch.manual_seed(0)
    model = SegFormer().eval()
    randomize(model, 11)
    export(model, 'segformer_s', outdir, torch.randn(1, 3, 64, 64))
