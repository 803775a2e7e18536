"""FCN-32s / FCN-16s / FCN-8s references (src/models/fcn.ts).

The modules follow wkentaro/pytorch-fcn (torchfcn.models.FCN32s/FCN16s/FCN8s): module names, their
order (= state_dict order), VGG16 with conv1_1 padding 100, fc6/fc7 as 7x7 / 1x1 convolutions,
ceil-mode pools, bias-free transposed convolutions, the fixed crop offsets in forward(). The only
addition is `width`, which scales the VGG widths 64/128/256/512/512/4096 (1 = the real network), so
the fixtures stay small. pytorch-fcn is not installed here; this file is the reference.

Fixtures (test/fixtures/models/): fcn32s / fcn16s / fcn8s (random weights, width 1/32, 5 classes,
non-square inputs), fcn8s_bilinear.* (fcn8s's weights with every upscore layer bilinear as
pytorch-fcn initialises it: output and the fused 1/8 score map the last upscore reads), and
fcn.names.json (state_dict names and shapes of the real-size networks, 21 classes).
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn

from common import randomize, save_case

VGG = (64, 128, 256, 512, 512, 4096)
BLOCKS = ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3))  # (block, convs)


def get_upsampling_weight(in_channels, out_channels, kernel_size):
    """torchfcn.models.fcn32s.get_upsampling_weight: 2D bilinear kernel on the channel diagonal."""
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = np.ogrid[:kernel_size, :kernel_size]
    filt = (1 - abs(og[0] - center) / factor) * (1 - abs(og[1] - center) / factor)
    weight = np.zeros((in_channels, out_channels, kernel_size, kernel_size), dtype=np.float64)
    weight[range(in_channels), range(out_channels), :, :] = filt
    return torch.from_numpy(weight).float()


class FCN(nn.Module):
    def __init__(self, variant='8s', n_class=21, width=1.0, pad=100, device=None):
        super().__init__()
        self.variant = variant
        c = [max(1, round(v * width)) for v in VGG]
        cin = 3
        for (blk, n), cout in zip(BLOCKS, c):
            for i in range(1, n + 1):
                setattr(self, f'conv{blk}_{i}', nn.Conv2d(cin, cout, 3, padding=pad if (blk, i) == (1, 1) else 1, device=device))
                setattr(self, f'relu{blk}_{i}', nn.ReLU(inplace=True))
                cin = cout
            setattr(self, f'pool{blk}', nn.MaxPool2d(2, stride=2, ceil_mode=True))
        self.fc6 = nn.Conv2d(c[4], c[5], 7, device=device)
        self.relu6 = nn.ReLU(inplace=True)
        self.drop6 = nn.Dropout2d()
        self.fc7 = nn.Conv2d(c[5], c[5], 1, device=device)
        self.relu7 = nn.ReLU(inplace=True)
        self.drop7 = nn.Dropout2d()
        self.score_fr = nn.Conv2d(c[5], n_class, 1, device=device)
        up = lambda k, s: nn.ConvTranspose2d(n_class, n_class, k, stride=s, bias=False, device=device)
        if variant == '32s':
            self.upscore = up(64, 32)
        elif variant == '16s':
            self.score_pool4 = nn.Conv2d(c[3], n_class, 1, device=device)
            self.upscore2 = up(4, 2)
            self.upscore16 = up(32, 16)
        else:
            self.score_pool3 = nn.Conv2d(c[2], n_class, 1, device=device)
            self.score_pool4 = nn.Conv2d(c[3], n_class, 1, device=device)
            self.upscore2 = up(4, 2)
            self.upscore8 = up(16, 8)
            self.upscore_pool4 = up(4, 2)

    def bilinear_upscore(self):
        for name, m in self.named_modules():
            if isinstance(m, nn.ConvTranspose2d):
                m.weight.data.copy_(get_upsampling_weight(m.in_channels, m.out_channels, m.kernel_size[0]))
        return self

    def forward(self, x):
        h, pools = x, {}
        for blk, n in BLOCKS:
            for i in range(1, n + 1):
                h = getattr(self, f'relu{blk}_{i}')(getattr(self, f'conv{blk}_{i}')(h))
            h = pools[blk] = getattr(self, f'pool{blk}')(h)
        h = self.drop6(self.relu6(self.fc6(h)))
        h = self.drop7(self.relu7(self.fc7(h)))
        h = self.score_fr(h)
        H, W = x.size(2), x.size(3)
        if self.variant == '32s':
            self.fused = h
            return self.upscore(h)[:, :, 19:19 + H, 19:19 + W].contiguous()
        upscore2 = self.upscore2(h)  # 1/16
        score_pool4c = self.score_pool4(pools[4])[:, :, 5:5 + upscore2.size(2), 5:5 + upscore2.size(3)]
        h = upscore2 + score_pool4c
        if self.variant == '16s':
            self.fused = h
            return self.upscore16(h)[:, :, 27:27 + H, 27:27 + W].contiguous()
        upscore_pool4 = self.upscore_pool4(h)  # 1/8
        score_pool3c = self.score_pool3(pools[3])[:, :, 9:9 + upscore_pool4.size(2), 9:9 + upscore_pool4.size(3)]
        h = self.fused = upscore_pool4 + score_pool3c
        return self.upscore8(h)[:, :, 31:31 + H, 31:31 + W].contiguous()


WIDTH, CLASSES = 1 / 32, 5
CASES = (('32s', 50, 37, 1), ('16s', 32, 45, 2), ('8s', 45, 61, 3))  # variant, H, W, seed


def make(outdir):
    names = {}
    for v in ('32s', '16s', '8s'):
        m = FCN(v, device='meta')
        names[v] = [[k, list(t.shape)] for k, t in m.state_dict().items()]
    with open(os.path.join(outdir, 'fcn.names.json'), 'w') as f:
        json.dump(names, f, separators=(',', ':'))
    torch.manual_seed(0)
    for v, h, w, seed in CASES:
        model = randomize(FCN(v, CLASSES, WIDTH), seed)
        x = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(100 + seed))
        with torch.no_grad():
            y = model(x)
        save_case(outdir, f'fcn{v}', model, {'x': x}, {'y': y})
        print(f'fcn{v}: input {list(x.shape)} output {list(y.shape)} |y|max {y.abs().max():.3g}')
        if v == '8s':
            with torch.no_grad():
                y = model.bilinear_upscore()(x)
            np.save(os.path.join(outdir, 'fcn8s_bilinear.output.npy'), y.numpy().astype(np.float32))
            np.save(os.path.join(outdir, 'fcn8s_bilinear.fused.npy'), model.fused.numpy().astype(np.float32))
            print(f'fcn8s_bilinear: fused {list(model.fused.shape)}')
