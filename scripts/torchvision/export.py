#!/usr/bin/python3
"""Export torchvision segmentation models (random weights) to ONNX opset 17 for the wgseg check.

Writes, per model, into the cache dir (default .cache/torchvision/, ignored by git):
  <model>.onnx         weights inside the file (no external data), input `input`, output `out`
  <model>.input.npy    float32 1x3xHxW, seeded random image normalised with the ImageNet mean/std
  <model>.torch.npy    model(x)['out'] from PyTorch (an extra reference besides onnxruntime)

Needs Debian python3-torch / python3-torchvision / python3-onnx (no pip). Usage:
  /usr/bin/python3 scripts/torchvision/export.py [--size 224] [--dir .cache/torchvision] [--random-bn] [model ...]
"""
import argparse
import os
import sys

import numpy as np
import torch
import torchvision.models.segmentation as seg

MODELS = {
    'fcn_resnet50': seg.fcn_resnet50,
    'deeplabv3_mobilenet_v3_large': seg.deeplabv3_mobilenet_v3_large,
    'lraspp_mobilenet_v3_large': seg.lraspp_mobilenet_v3_large,
}
MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)


class OutOnly(torch.nn.Module):
    """The torchvision models return a dict; export only its 'out' entry."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)['out']


def build(name, seed, random_bn):
    torch.manual_seed(seed)
    kwargs = dict(weights=None, weights_backbone=None, num_classes=21)
    if name != 'lraspp_mobilenet_v3_large':
        kwargs['aux_loss'] = None  # no auxiliary classifier head
    model = MODELS[name](**kwargs)
    if random_bn:
        # Fresh BatchNorms are identities (mean 0, var 1, gamma 1, beta 0), so the exported convs
        # all get zero biases; random statistics give every folded conv a real bias and scale.
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 2.0)
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)
    return OutOnly(model).eval()


def image(size, seed):
    rng = np.random.default_rng(seed)
    rgb = rng.random((1, 3, size, size), dtype=np.float32)
    return ((rgb - MEAN) / STD).astype(np.float32)


def export(name, size, out_dir, seed, random_bn):
    model = build(name, seed, random_bn)
    x = image(size, seed)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    path = os.path.join(out_dir, f'{name}.onnx')
    torch.onnx.export(model, torch.from_numpy(x), path, opset_version=17, input_names=['input'],
                      output_names=['out'], do_constant_folding=True)
    np.save(os.path.join(out_dir, f'{name}.input.npy'), x)
    np.save(os.path.join(out_dir, f'{name}.torch.npy'), ref)
    print(f'{name}: {path} ({os.path.getsize(path) / 1e6:.1f} MB), input {list(x.shape)}, out {list(ref.shape)}, max|out| {np.abs(ref).max():.4g}')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('models', nargs='*', help=f'default: all of {", ".join(MODELS)}')
    ap.add_argument('--size', type=int, default=224, help='input height and width (default 224)')
    ap.add_argument('--dir', default='.cache/torchvision', help='output directory')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--random-bn', action='store_true', help='random BatchNorm statistics and affine parameters (non-zero conv biases after folding)')
    args = ap.parse_args()
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        ap.error(f'unknown model {unknown[0]} (choose from {", ".join(MODELS)})')
    args.models = args.models or list(MODELS)
    os.makedirs(args.dir, exist_ok=True)
    ignore = os.path.join(args.dir, '.gitignore')
    if not os.path.exists(ignore):
        with open(ignore, 'w') as f:
            f.write('*\n')  # keep the exported files out of git without touching the root .gitignore
    torch.set_num_threads(max(1, os.cpu_count() // 2))
    for name in args.models:
        export(name, args.size, args.dir, args.seed, args.random_bn)
    return 0


if __name__ == '__main__':
    sys.exit(main())
