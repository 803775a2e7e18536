"""Spatial Transformer Network (Jaderberg et al. 2015) as in the PyTorch STN tutorial
(https://pytorch.org/tutorials/intermediate/spatial_transformer_tutorial.html), with the same
module names (localization.*, fc_loc.*, conv1, conv2, fc1, fc2), generalised to any square input
size, channel count and class count. `Net(size=42)` is the model for a 42x42 canvas;
`Net(stn=False)` is the same CNN without the transformer (the paper's baseline).

Import from elsewhere:  sys.path.insert(0, 'tools/refs'); from stn import Net
forward returns log-probabilities; `net.stn(x)` returns the rectified input, `net.theta(x)` the
[N, 2, 3] affine parameters. For torch.onnx.export (opset 16+: GridSample) set
`net.matmul_grid = True` first: the affine grid is then a MatMul on a constant base grid. fc_loc[2] starts at the identity transform (weight 0, bias
[1, 0, 0, 0, 1, 0]), as in the tutorial.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import randomize, save_case


def loc_size(size):
    """Spatial size after localization: conv7, pool2, conv5, pool2 (floor)."""
    return ((size - 6) // 2 - 4) // 2


def cnn_size(size):
    """Spatial size after the classifier's conv5, pool2, conv5, pool2 (floor)."""
    return ((size - 4) // 2 - 4) // 2


def matmul_affine_grid(theta, size):
    """F.affine_grid(theta, size, align_corners=False) as a MatMul on a constant base grid: the same
    values, and exportable to ONNX (torch 1.13 cannot export aten::affine_grid_generator)."""
    h, w = int(size[2]), int(size[3])
    base = torch.tensor([[(2 * j + 1) / w - 1, (2 * i + 1) / h - 1, 1.0] for i in range(h) for j in range(w)], dtype=theta.dtype)  # [H*W, 3]
    return torch.matmul(base, theta.transpose(1, 2)).view(-1, h, w, 2)


class Net(nn.Module):
    def __init__(self, size=28, channels=1, classes=10, stn=True):
        super().__init__()
        self.size, self.use_stn = size, stn
        self.matmul_grid = False  # set True before torch.onnx.export (see matmul_affine_grid)
        self.flat = 20 * cnn_size(size) ** 2
        self.conv1 = nn.Conv2d(channels, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(self.flat, 50)
        self.fc2 = nn.Linear(50, classes)
        if stn:
            self.loc_flat = 10 * loc_size(size) ** 2
            self.localization = nn.Sequential(
                nn.Conv2d(channels, 8, kernel_size=7), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
                nn.Conv2d(8, 10, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
            self.fc_loc = nn.Sequential(nn.Linear(self.loc_flat, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))
            self.fc_loc[2].weight.data.zero_()
            self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    def theta(self, x):
        xs = self.localization(x).view(-1, self.loc_flat)
        return self.fc_loc(xs).view(-1, 2, 3)

    def stn(self, x):
        theta = self.theta(x)
        if self.matmul_grid:
            grid = matmul_affine_grid(theta, x.size())
        else:
            grid = F.affine_grid(theta, x.size(), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False)

    def forward(self, x):
        if self.use_stn:
            x = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, self.flat)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        return F.log_softmax(self.fc2(x), dim=1)


def make(outdir):
    cases = [  # name, kwargs, batch
        ('stn28', dict(size=28), 2),
        ('stn42', dict(size=42, channels=3, classes=5), 1),
        ('stn60', dict(size=60), 2),
        ('cnn42', dict(size=42, stn=False), 2),
    ]
    for i, (name, kw, n) in enumerate(cases):
        m = randomize(Net(**kw), 300 + i)
        if kw.get('stn', True):
            with torch.no_grad():  # a small, non-trivial transform: rotation/scale/shift around the identity
                m.fc_loc[2].weight.mul_(0.05)
                m.fc_loc[2].bias.copy_(torch.tensor([0.9, -0.3, 0.1, 0.25, 1.1, -0.05]))
        x = torch.randn((n, kw.get('channels', 1), kw['size'], kw['size']), generator=torch.Generator().manual_seed(400 + i))
        with torch.no_grad():
            outs = {'output': m(x)}
            if m.use_stn:
                outs.update(rectified=m.stn(x), theta=m.theta(x))
                m.matmul_grid = True  # the exportable grid gives the same rectified view
                assert (m.stn(x) - outs['rectified']).abs().max() < 1e-4
                m.matmul_grid = False
            save_case(outdir, name, m, {'x': x}, outs)
