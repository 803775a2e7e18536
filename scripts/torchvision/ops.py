#!/usr/bin/python3
"""List the ops and attribute variants of the exported models (for NOTES.md)."""
import collections
import sys

import onnx
from onnx import helper, numpy_helper


def describe(path):
    m = onnx.load(path)
    g = m.graph
    inits = {i.name for i in g.initializer}
    produced = {}
    for n in g.node:
        for o in n.output:
            produced[o] = n
    variants = collections.Counter()
    for n in g.node:
        attrs = []
        for a in n.attribute:
            v = helper.get_attribute_value(a)
            if isinstance(v, bytes):
                v = v.decode()
            if isinstance(v, onnx.TensorProto):
                v = numpy_helper.to_array(v).tolist()
            if isinstance(v, list) and v and isinstance(v[0], bytes):
                v = [x.decode() for x in v]
            if a.name in ('kernel_shape',) or (a.name == 'value' and n.op_type == 'Constant'):
                pass
            attrs.append(f'{a.name}={v}')
        srcs = []
        for i in n.input:
            if i == '':
                srcs.append('-')
            elif i in inits:
                srcs.append('init')
            elif i in produced:
                srcs.append(produced[i].op_type)
            else:
                srcs.append('input')
        variants[(n.op_type, ' '.join(sorted(attrs)) if n.op_type != 'Constant' else '', ','.join(srcs))] += 1
    print(f'# {path}: {len(g.node)} nodes, opset {[(o.domain or "ai.onnx", o.version) for o in m.opset_import]}')
    print(f'  inputs {[(i.name, [d.dim_value or d.dim_param for d in i.type.tensor_type.shape.dim]) for i in g.input if i.name not in inits]}')
    print(f'  outputs {[(o.name, [d.dim_value or d.dim_param for d in o.type.tensor_type.shape.dim]) for o in g.output]}')
    ops = collections.Counter(n.op_type for n in g.node)
    print('  ops', dict(ops))
    for (op, a, s), c in sorted(variants.items()):
        print(f'  {c:4d} x {op:20s} [{s}] {a}')


for p in sys.argv[1:]:
    describe(p)
