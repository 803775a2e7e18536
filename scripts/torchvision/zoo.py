#!/usr/bin/python3
"""Export torchvision 0.14 classification and segmentation models (random weights) to ONNX opset 17.

For `npm run check:zoo` (scripts/torchvision/zoo.ts), which runs each file through `wgseg run`
against onnxruntime. Per model, into --dir/<model>/:
  <model>.onnx        weights inside the file (external data next to it when past protobuf's 2 GB)
  <model>.input.npy   float32 1x3xHxW, seeded random image normalised with the ImageNet mean/std
  <model>.torch.npy   PyTorch's output (an extra reference besides onnxruntime)
and prints one JSON line per model: {"model", "size", "ok", "reason", "mb", "seconds"}.

Weights are random (no download); BatchNorm statistics and the affine parameters of BatchNorm,
LayerNorm and GroupNorm are randomised too, so folded convs get real scales and biases and the
norms are not identities; a Linear layer initialised to zero (ViT's head) gets random weights. Needs Debian python3-torch / python3-torchvision / python3-onnx.
  /usr/bin/python3 scripts/torchvision/zoo.py [--dir .cache/zoo] [--list] [model ...]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torchvision.models as tvm
import torchvision.models.segmentation as seg

from export import MEAN, STD, OutOnly  # scripts/torchvision/export.py, the segmentation export

SEGMENTATION = tvm.list_models(module=seg)
CLASSIFICATION = [m for m in tvm.list_models(module=tvm)]
# Small inputs each family accepts: ViT is built for its input (image_size, a multiple of the
# patch), MaxViT's 7x7 partitions need 224 (7 at stride 32), Inception v3 needs at least 75; AlexNet
# and VGG pool adaptively to 6x6 / 7x7, which the exporter takes only as an exact division (224).
SIZE = {'vit_h': 56, 'vit': 64, 'maxvit': 224, 'inception_v3': 96, 'alexnet': 224, 'vgg': 224}
DEFAULT_SIZE = 64


def size_of(name):
    for prefix, s in SIZE.items():
        if name.startswith(prefix):
            return s
    return DEFAULT_SIZE


def build(name, seed):
    torch.manual_seed(seed)
    if name in SEGMENTATION:
        kwargs = dict(weights=None, weights_backbone=None, num_classes=21)
        if not name.startswith('lraspp'):
            kwargs['aux_loss'] = None
        model = OutOnly(tvm.get_model(name, **kwargs))
    else:
        kwargs = dict(weights=None)
        if name in ('googlenet', 'inception_v3'):
            kwargs.update(aux_logits=False, init_weights=False)
        if name.startswith('vit'):
            kwargs['image_size'] = size_of(name)
        model = tvm.get_model(name, **kwargs)
    with torch.no_grad():
        for m in model.modules():
            # ViT's classifier head starts at zero (every output 0): give it weights to check
            if isinstance(m, torch.nn.Linear) and not m.weight.any():
                torch.nn.init.normal_(m.weight, std=0.02)
                if m.bias is not None:
                    m.bias.uniform_(-0.2, 0.2)
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
            if isinstance(m, (torch.nn.modules.batchnorm._BatchNorm, torch.nn.LayerNorm, torch.nn.GroupNorm)):
                if m.weight is not None:
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)
    return model.eval()


def export(name, out_dir, seed):
    t0 = time.time()
    size = size_of(name)
    row = {'model': name, 'size': size, 'ok': False, 'reason': '', 'mb': 0, 'seconds': 0}
    try:
        model = build(name, seed)
        rng = np.random.default_rng(seed)
        x = ((rng.random((1, 3, size, size), dtype=np.float32) - MEAN) / STD).astype(np.float32)
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        out_dir = os.path.join(out_dir, name)
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, f'{name}.onnx')
        torch.onnx.export(model, torch.from_numpy(x), path, opset_version=17, input_names=['input'],
                          output_names=['out'], do_constant_folding=True)
        np.save(os.path.join(out_dir, f'{name}.input.npy'), x)
        np.save(os.path.join(out_dir, f'{name}.torch.npy'), ref)
        row['ok'] = True
        row['mb'] = round(sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir)) / 1e6, 1)
    except Exception as e:  # the reason goes into the table; the next model still runs
        row['reason'] = f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'[:200]
    row['seconds'] = round(time.time() - t0, 1)
    print(json.dumps(row), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('models', nargs='*', help='default: every classification and segmentation model')
    ap.add_argument('--dir', default='.cache/zoo', help='output directory')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--list', action='store_true', help='print the model names and input sizes, export nothing')
    args = ap.parse_args()
    every = CLASSIFICATION + SEGMENTATION
    if args.list:
        for m in every:
            print(json.dumps({'model': m, 'size': size_of(m), 'task': 'segmentation' if m in SEGMENTATION else 'classification'}))
        return 0
    unknown = [m for m in args.models if m not in every]
    if unknown:
        ap.error(f'unknown model {unknown[0]}')
    os.makedirs(args.dir, exist_ok=True)
    ignore = os.path.join(args.dir, '.gitignore')
    if not os.path.exists(ignore):
        with open(ignore, 'w') as f:
            f.write('*\n')
    torch.set_num_threads(max(1, os.cpu_count() // 2))
    for name in args.models or every:
        export(name, args.dir, args.seed)
    return 0


if __name__ == '__main__':
    sys.exit(main())
