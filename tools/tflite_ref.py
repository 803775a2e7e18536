"""Independent reference for wgseg's TFLite import: runs a .tflite model in PyTorch (float64, NHWC
semantics re-derived from the TFLite / MediaPipe kernels, not from src/import/tflite.ts).

  /usr/bin/python3 tools/tflite_ref.py MODEL.tflite INPUT.npy OUTPUT.npy   # input NHWC float32
  /usr/bin/python3 tools/tflite_ref.py MODEL.tflite --ops                  # list the operators

The file is parsed by `flatc` (Debian flatbuffers-compiler) into JSON, with a schema written out
below: the subset of TensorFlow Lite's schema.fbs (v3) that these models use. Table fields keep
schema.fbs' order (flatbuffers identifies fields by position) and the BuiltinOptions union keeps its
member order (its tag is the member's index); unused members are empty placeholder tables.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

# BuiltinOptions members 1..91 (schema.fbs order); only the named ones are read here.
USED = {1: 'Conv2DOptions', 2: 'DepthwiseConv2DOptions', 5: 'Pool2DOptions', 10: 'ConcatenationOptions',
        11: 'AddOptions', 15: 'ResizeBilinearOptions', 21: 'MulOptions', 27: 'ReducerOptions',
        38: 'DequantizeOptions', 91: 'HardSwishOptions'}
SCHEMA = """
namespace tflite;
file_identifier "TFL3";
enum TensorType : byte { FLOAT32 = 0, FLOAT16 = 1, INT32 = 2, UINT8 = 3, INT64 = 4, STRING = 5, BOOL = 6, INT16 = 7, COMPLEX64 = 8, INT8 = 9 }
table QuantizationParameters { min:[float]; max:[float]; scale:[float]; zero_point:[long]; }
table Tensor { shape:[int]; type:TensorType; buffer:uint; name:string; quantization:QuantizationParameters; is_variable:bool = false; }
enum Padding : byte { SAME, VALID }
enum ActivationFunctionType : byte { NONE = 0, RELU = 1, RELU_N1_TO_1 = 2, RELU6 = 3, TANH = 4, SIGN_BIT = 5 }
table Conv2DOptions { padding:Padding; stride_w:int; stride_h:int; fused_activation_function:ActivationFunctionType; dilation_w_factor:int = 1; dilation_h_factor:int = 1; }
table Pool2DOptions { padding:Padding; stride_w:int; stride_h:int; filter_width:int; filter_height:int; fused_activation_function:ActivationFunctionType; }
table DepthwiseConv2DOptions { padding:Padding; stride_w:int; stride_h:int; depth_multiplier:int; fused_activation_function:ActivationFunctionType; dilation_w_factor:int = 1; dilation_h_factor:int = 1; }
table ConcatenationOptions { axis:int; fused_activation_function:ActivationFunctionType; }
table AddOptions { fused_activation_function:ActivationFunctionType; }
table MulOptions { fused_activation_function:ActivationFunctionType; }
table ResizeBilinearOptions { new_height:int (deprecated); new_width:int (deprecated); align_corners:bool; half_pixel_centers:bool; }
table ReducerOptions { keep_dims:bool; }
table DequantizeOptions {}
table HardSwishOptions {}
%s
union BuiltinOptions { %s }
enum BuiltinOperator : int { ADD = 0, AVERAGE_POOL_2D = 1, CONCATENATION = 2, CONV_2D = 3, DEPTHWISE_CONV_2D = 4, DEQUANTIZE = 6, LOGISTIC = 14, MUL = 18, RELU = 19, RELU6 = 21, RESHAPE = 22, RESIZE_BILINEAR = 23, CUSTOM = 32, MEAN = 40, HARD_SWISH = 117 }
table OperatorCode { deprecated_builtin_code:byte; custom_code:string; version:int = 1; builtin_code:BuiltinOperator; }
table Operator { opcode_index:uint; inputs:[int]; outputs:[int]; builtin_options:BuiltinOptions; custom_options:[ubyte]; }
table SubGraph { tensors:[Tensor]; inputs:[int]; outputs:[int]; operators:[Operator]; name:string; }
table Buffer { data:[ubyte] (force_align: 16); }
table Model { version:uint; operator_codes:[OperatorCode]; subgraphs:[SubGraph]; description:string; buffers:[Buffer]; }
root_type Model;
""" % ('\n'.join(f'table Unused{i} {{}}' for i in range(1, 92) if i not in USED),
       ', '.join(USED.get(i, f'Unused{i}') for i in range(1, 92)))


def load(path):
    with tempfile.TemporaryDirectory() as d:
        fbs = os.path.join(d, 'tflite.fbs')
        with open(fbs, 'w') as f:
            f.write(SCHEMA)
        subprocess.run(['flatc', '--json', '--strict-json', '--raw-binary', '--defaults-json', '-o', d, fbs, '--', path], check=True)
        with open(os.path.join(d, os.path.splitext(os.path.basename(path))[0] + '.json')) as f:
            return json.load(f)


def op_name(model, op):
    code = model['operator_codes'][op.get('opcode_index', 0)]
    b = code.get('builtin_code', 'ADD')
    dep = code.get('deprecated_builtin_code', 0)
    if b == 'ADD' and dep:  # old files: only the byte field is set
        b = {v: k for k, v in BUILTIN_IDS.items()}.get(dep, f'#{dep}')
    return code.get('custom_code') if b == 'CUSTOM' else b


BUILTIN_IDS = {'ADD': 0, 'AVERAGE_POOL_2D': 1, 'CONCATENATION': 2, 'CONV_2D': 3, 'DEPTHWISE_CONV_2D': 4, 'DEQUANTIZE': 6,
               'LOGISTIC': 14, 'MUL': 18, 'RELU': 19, 'RELU6': 21, 'RESHAPE': 22, 'RESIZE_BILINEAR': 23, 'CUSTOM': 32, 'MEAN': 40}


NP_TYPES = {'FLOAT32': np.float32, 'FLOAT16': np.float16, 'INT32': np.int32, 'INT64': np.int64, 'UINT8': np.uint8, 'INT8': np.int8}


def tensor_value(model, t):
    buf = model['buffers'][t.get('buffer', 0)].get('data')
    if not buf:
        return None
    a = np.frombuffer(bytes(buf), dtype=NP_TYPES[t.get('type', 'FLOAT32')]).reshape(t.get('shape', []))
    return torch.from_numpy(a.astype(np.float64)) if a.dtype.kind == 'f' else a.astype(np.int64)


def same_pad(n, k, s, d=1):
    """TensorFlow SAME: output ceil(n / s), total padding split with the extra element after."""
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def nchw(x):
    return x.permute(0, 3, 1, 2)


def nhwc(x):
    return x.permute(0, 2, 3, 1)


def activation(x, fused):
    return {'NONE': x, 'RELU': torch.relu(x), 'RELU6': x.clamp(0, 6), 'RELU_N1_TO_1': x.clamp(-1, 1), 'TANH': torch.tanh(x)}[fused]


def conv(x, w, b, o, depthwise):
    """x NHWC, w OHWI (depthwise: 1HW(C*M)); TF SAME padding applied explicitly on the NHWC input."""
    kh, kw = w.shape[1], w.shape[2]
    sh, sw, dh, dw = o['stride_h'], o['stride_w'], o.get('dilation_h_factor', 1), o.get('dilation_w_factor', 1)
    if o['padding'] == 'SAME':
        t, bt = same_pad(x.shape[1], kh, sh, dh)
        l, r = same_pad(x.shape[2], kw, sw, dw)
        x = F.pad(x, (0, 0, l, r, t, bt))
    c = x.shape[3]
    if depthwise:
        weight, groups = w.permute(3, 0, 1, 2), c  # (C*M, 1, kh, kw)
    else:
        weight, groups = w.permute(0, 3, 1, 2), c // w.shape[3]
    y = F.conv2d(nchw(x), weight, b, stride=(sh, sw), dilation=(dh, dw), groups=groups)
    return activation(nhwc(y), o.get('fused_activation_function', 'NONE'))


def transpose_conv_bias(x, w, b, custom):
    """MediaPipe Convolution2DTransposeBias: out = bias, then every input pixel scatters its kernel
    at (in * stride - pad_before); the output is s * (in - 1) + k - pad_total."""
    padding, sw, sh = np.frombuffer(bytes(custom), dtype='<i4')[:3]
    n, h, wd, c = x.shape
    o, kh, kw, _ = w.shape
    th = max(0, kh - (h - 1) % sh - 1) if padding == 1 else 0
    tw = max(0, kw - (wd - 1) % sw - 1) if padding == 1 else 0
    oh, ow = sh * (h - 1) + kh - th, sw * (wd - 1) + kw - tw
    full = torch.zeros(n, sh * (h - 1) + kh, sw * (wd - 1) + kw, o, dtype=x.dtype)
    for fy in range(kh):
        for fx in range(kw):
            contrib = torch.einsum('nhwc,oc->nhwo', x, w[:, fy, fx, :])
            full[:, fy:fy + sh * (h - 1) + 1:sh, fx:fx + sw * (wd - 1) + 1:sw, :] += contrib
    return full[:, th // 2:th // 2 + oh, tw // 2:tw // 2 + ow, :] + b


def resize_bilinear(x, size, o):
    """TFLite reference ResizeBilinear: source = (dst + 0.5) * scale - 0.5 with half pixel centres,
    lower = max(floor, 0), upper = min(ceil, n - 1), weights from the unclamped source."""
    n, h, w, c = x.shape
    oh, ow = int(size[0]), int(size[1])

    def axis(out, inp):
        scale = (inp - 1) / (out - 1) if o.get('align_corners') and out > 1 else inp / out
        src = (np.arange(out) + 0.5) * scale - 0.5 if o.get('half_pixel_centers') else np.arange(out) * scale
        lo = np.maximum(np.floor(src), 0).astype(int)
        hi = np.minimum(np.ceil(src), inp - 1).astype(int)
        return lo, hi, torch.from_numpy(src - lo)

    y0, y1, dy = axis(oh, h)
    x0, x1, dx = axis(ow, w)
    dy, dx = dy.view(1, -1, 1, 1), dx.view(1, 1, -1, 1)
    top = x[:, y0][:, :, x0] * (1 - dx) + x[:, y0][:, :, x1] * dx
    bot = x[:, y1][:, :, x0] * (1 - dx) + x[:, y1][:, :, x1] * dx
    return top * (1 - dy) + bot * dy


def avg_pool(x, o):
    """Average over the window's in-bounds elements (TFLite divides by the count, padding excluded)."""
    fh, fw, sh, sw = o['filter_height'], o['filter_width'], o['stride_h'], o['stride_w']
    t, bt = same_pad(x.shape[1], fh, sh) if o['padding'] == 'SAME' else (0, 0)
    l, r = same_pad(x.shape[2], fw, sw) if o['padding'] == 'SAME' else (0, 0)
    ones = torch.ones_like(x[..., :1])
    s = F.avg_pool2d(nchw(F.pad(x, (0, 0, l, r, t, bt))), (fh, fw), (sh, sw), divisor_override=1)
    cnt = F.avg_pool2d(nchw(F.pad(ones, (0, 0, l, r, t, bt))), (fh, fw), (sh, sw), divisor_override=1)
    return activation(nhwc(s / cnt), o.get('fused_activation_function', 'NONE'))


def run(model, x):
    g = model['subgraphs'][0]
    ts = g['tensors']
    vals = {i: tensor_value(model, t) for i, t in enumerate(ts)}
    vals[g['inputs'][0]] = torch.from_numpy(x.astype(np.float64))
    for op in g['operators']:
        name = op_name(model, op)
        o = op.get('builtin_options', {})
        a = [vals[i] if i >= 0 else None for i in op['inputs']]
        if name == 'DEQUANTIZE':
            y = a[0]
        elif name in ('CONV_2D', 'DEPTHWISE_CONV_2D'):
            y = conv(a[0], a[1], a[2], o, name == 'DEPTHWISE_CONV_2D')
        elif name == 'Convolution2DTransposeBias':
            y = transpose_conv_bias(a[0], a[1], a[2], op['custom_options'])
        elif name in ('ADD', 'MUL'):
            y = activation(a[0] + a[1] if name == 'ADD' else a[0] * a[1], o.get('fused_activation_function', 'NONE'))
        elif name == 'RELU':
            y = torch.relu(a[0])
        elif name == 'LOGISTIC':
            y = torch.sigmoid(a[0])
        elif name == 'HARD_SWISH':
            y = a[0] * (a[0] + 3).clamp(0, 6) / 6
        elif name == 'AVERAGE_POOL_2D':
            y = avg_pool(a[0], o)
        elif name == 'MEAN':
            y = a[0].mean(dim=tuple(int(d) for d in a[1]), keepdim=bool(o.get('keep_dims')))
        elif name == 'RESIZE_BILINEAR':
            y = resize_bilinear(a[0], a[1], o)
        elif name == 'CONCATENATION':
            y = activation(torch.cat(a, dim=o['axis']), o.get('fused_activation_function', 'NONE'))
        else:
            raise SystemExit(f'tflite_ref: op {name} is not implemented here')
        assert list(y.shape) == ts[op['outputs'][0]]['shape'], (name, list(y.shape), ts[op['outputs'][0]]['shape'])
        vals[op['outputs'][0]] = y
    return vals[g['outputs'][0]].numpy()


if __name__ == '__main__':
    m = load(sys.argv[1])
    if sys.argv[2] == '--ops':
        g = m['subgraphs'][0]
        for i, op in enumerate(g['operators']):
            t = g['tensors']
            print(i, op_name(m, op), [t[x]['shape'] for x in op['inputs'] if x >= 0], '->', [t[x]['shape'] for x in op['outputs']], op.get('builtin_options_type'), op.get('builtin_options'), op.get('custom_options'))
        sys.exit(0)
    x = np.load(sys.argv[2])
    if x.dtype == np.uint8:
        x = x.astype(np.float64) / 255
    y = run(m, x.reshape((1,) + x.shape[-3:]))
    np.save(sys.argv[3], y.astype(np.float32))
    print(f'{sys.argv[1]}: output {list(y.shape)} range [{y.min():.4f}, {y.max():.4f}], mean {y.mean():.4f}')
