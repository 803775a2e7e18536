import type { ProtoNamespace, ProtoType } from './protobuf';

/**
 * The subset of the public onnx.proto (package onnx, proto2) that wgseg reads, as a protobufjs-style
 * JSON descriptor (names and field numbers as in onnx.proto): decoded by protobuf.ts, and encoded
 * with protobufjs in tests and tools (onnxType in bench/onnx/build.ts). Sparse tensors are decoded only so that
 * they can be rejected by name. Fields left out here (functions, training info, sequence/map types...) are skipped by the decoder.
 * A plain object rather than a .proto file so it loads the same in Node, Vite and the browser.
 */
const type = (fields: ProtoType['fields'], nested?: Record<string, ProtoType>): ProtoType => ({
  fields,
  ...(nested ? { nested } : {}),
});
const rep = (t: string, id: number) => ({ type: t, id, rule: 'repeated' as const });
const one = (t: string, id: number) => ({ type: t, id });

export const ONNX_SCHEMA: ProtoNamespace = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: type({
          name: one('string', 1),
          refAttrName: one('string', 21),
          docString: one('string', 13),
          type: one('int32', 20),
          f: one('float', 2),
          i: one('int64', 3),
          s: one('bytes', 4),
          t: one('TensorProto', 5),
          g: one('GraphProto', 6),
          floats: rep('float', 7),
          ints: rep('int64', 8),
          strings: rep('bytes', 9),
          tensors: rep('TensorProto', 10),
          graphs: rep('GraphProto', 11),
          sparseTensor: one('SparseTensorProto', 22),
          sparseTensors: rep('SparseTensorProto', 23),
        }),
        SparseTensorProto: type({
          values: one('TensorProto', 1),
          indices: one('TensorProto', 2),
          dims: rep('int64', 3),
        }),
        ValueInfoProto: type({ name: one('string', 1), type: one('TypeProto', 2), docString: one('string', 3) }),
        NodeProto: type({
          input: rep('string', 1),
          output: rep('string', 2),
          name: one('string', 3),
          opType: one('string', 4),
          domain: one('string', 7),
          attribute: rep('AttributeProto', 5),
          docString: one('string', 6),
        }),
        ModelProto: type({
          irVersion: one('int64', 1),
          opsetImport: rep('OperatorSetIdProto', 8),
          producerName: one('string', 2),
          producerVersion: one('string', 3),
          domain: one('string', 4),
          modelVersion: one('int64', 5),
          docString: one('string', 6),
          graph: one('GraphProto', 7),
          metadataProps: rep('StringStringEntryProto', 14),
        }),
        StringStringEntryProto: type({ key: one('string', 1), value: one('string', 2) }),
        GraphProto: type({
          node: rep('NodeProto', 1),
          name: one('string', 2),
          initializer: rep('TensorProto', 5),
          docString: one('string', 10),
          input: rep('ValueInfoProto', 11),
          output: rep('ValueInfoProto', 12),
          valueInfo: rep('ValueInfoProto', 13),
          sparseInitializer: rep('SparseTensorProto', 15),
        }),
        TensorProto: type(
          {
            dims: rep('int64', 1),
            dataType: one('int32', 2),
            segment: one('Segment', 3),
            floatData: rep('float', 4),
            int32Data: rep('int32', 5),
            stringData: rep('bytes', 6),
            int64Data: rep('int64', 7),
            name: one('string', 8),
            docString: one('string', 12),
            rawData: one('bytes', 9),
            externalData: rep('StringStringEntryProto', 13),
            dataLocation: one('int32', 14),
            doubleData: rep('double', 10),
            uint64Data: rep('uint64', 11),
          },
          { Segment: type({ begin: one('int64', 1), end: one('int64', 2) }) },
        ),
        TensorShapeProto: type(
          { dim: rep('Dimension', 1) },
          {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: one('int64', 1), dimParam: one('string', 2), denotation: one('string', 3) },
            },
          },
        ),
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: one('Tensor', 1), denotation: one('string', 6) },
          nested: { Tensor: type({ elemType: one('int32', 1), shape: one('TensorShapeProto', 2) }) },
        },
        OperatorSetIdProto: type({ domain: one('string', 1), version: one('int64', 2) }),
      },
    },
  },
};
