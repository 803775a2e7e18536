"""Shared helpers for the reference generators (Debian python3-torch, run as /usr/bin/python3).

Each tools/refs/<arch>.py defines `make(outdir)` that builds the PyTorch module with fixed random
weights, saves `<name>.safetensors` (its state_dict), `<name>.input.npy` and `<name>.output.npy`
into outdir (test/fixtures/models/). tools/make_refs.py runs them all.
"""
import json
import os
import struct

import numpy as np
import torch

DTYPES = {torch.float32: 'F32', torch.float16: 'F16', torch.float64: 'F64', torch.int64: 'I64', torch.int32: 'I32', torch.uint8: 'U8', torch.bool: 'BOOL'}


def save_safetensors(state, path):
    """safetensors.torch.save_file without the package: u64 header length, JSON header, raw LE bytes."""
    header, blobs, off = {}, [], 0
    for name, t in state.items():
        t = t.detach().contiguous().cpu()
        raw = t.numpy().tobytes()
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(',', ':'))
    h += ' ' * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h.encode())
        for b in blobs:
            f.write(b)


def randomize(model, seed):
    """Fixed random weights, including BatchNorm statistics (so folded BN is really tested)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.state_dict().items():
            if p.dtype != torch.float32:
                continue
            if name.endswith('running_var'):
                p.copy_(torch.rand(p.shape, generator=g) * 0.5 + 0.75)
            elif name.endswith('running_mean') or name.endswith('.bias'):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            elif p.dim() <= 1:
                p.copy_(torch.rand(p.shape, generator=g) * 0.5 + 0.75)
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) * (2.0 / fan_in) ** 0.5)
    return model.eval()


def save_case(outdir, name, model, inputs, outputs):
    """model.state_dict() -> name.safetensors; inputs/outputs: dict name -> tensor -> name.<key>.npy."""
    os.makedirs(outdir, exist_ok=True)
    save_safetensors(model.state_dict(), os.path.join(outdir, f'{name}.safetensors'))
    for k, v in {**{f'input.{k}' if len(inputs) > 1 else 'input': v for k, v in inputs.items()},
                 **{f'output.{k}' if len(outputs) > 1 else 'output': v for k, v in outputs.items()}}.items():
        np.save(os.path.join(outdir, f'{name}.{k}.npy'), v.detach().cpu().numpy().astype(np.float32))
