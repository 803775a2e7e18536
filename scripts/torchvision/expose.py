#!/usr/bin/python3
"""Copy of a model with every node output (or the named ones) also exposed as a graph output, so
onnxruntime returns the intermediates (for scripts/torchvision/layerwise.ts). Usage:
  /usr/bin/python3 scripts/torchvision/expose.py <model.onnx> <out.onnx> [value ...]
"""
import sys

import onnx
from onnx import shape_inference


def main(src, dst, names):
    m = shape_inference.infer_shapes(onnx.load(src))
    known = {v.name: v for v in list(m.graph.value_info) + list(m.graph.output)}
    have = {o.name for o in m.graph.output}
    want = names or [o for n in m.graph.node for o in n.output if o]
    missing = [n for n in want if n not in known]
    if missing:
        sys.exit(f'expose: no inferred type for {missing[:5]}')
    for name in want:
        if name not in have:
            m.graph.output.append(known[name])
            have.add(name)
    onnx.save(m, dst)
    print(f'{dst}: {len(m.graph.output)} outputs')


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
