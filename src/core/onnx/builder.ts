// Builds ONNX models with the official ONNX protobuf schema (generated code from onnx.proto in the
// `onnx-proto` package, on protobufjs): no hand-assembled bytes.
import { onnx } from 'onnx-proto';
import { Reader } from 'protobufjs/minimal';

export type ElemType =
  | 'float'
  | 'double'
  | 'int64'
  | 'int32'
  | 'string'
  | 'bool'
  | 'float16'
  | 'int8'
  | 'int16'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64';

const ELEM: Record<ElemType, number> = {
  float: onnx.TensorProto.DataType.FLOAT,
  double: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  string: onnx.TensorProto.DataType.STRING,
  bool: onnx.TensorProto.DataType.BOOL,
  // Input/output types only (initializers of these types are not written by addInitializer).
  float16: onnx.TensorProto.DataType.FLOAT16,
  int8: onnx.TensorProto.DataType.INT8,
  int16: onnx.TensorProto.DataType.INT16,
  uint8: onnx.TensorProto.DataType.UINT8,
  uint16: onnx.TensorProto.DataType.UINT16,
  uint32: onnx.TensorProto.DataType.UINT32,
  uint64: onnx.TensorProto.DataType.UINT64,
};

/** A dimension: a fixed size, or a symbolic name (e.g. 'N') for a dynamic one. */
export type Dim = number | string;

export type AttrValue =
  number | string | number[] | string[] | { ints: number[] } | { floats: number[] } | onnx.IGraphProto;

/** Opsets used by ML Loop's models. ai.onnx.ml 3 has the TreeEnsemble* operators with all attributes we use. */
export const DEFAULT_OPSETS: Record<string, number> = { '': 15, 'ai.onnx.ml': 3 };
export const IR_VERSION = 8;

export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly usedNames = new Set<string>();
  private counter = 0;

  constructor(readonly graphName = 'mlloop') {}

  /** A fresh tensor/node name with the given prefix. */
  name(prefix: string): string {
    let n: string;
    do n = `${prefix}_${this.counter++}`;
    while (this.usedNames.has(n));
    this.usedNames.add(n);
    return n;
  }

  addInput(name: string, type: ElemType, shape: Dim[]): string {
    this.usedNames.add(name);
    this.inputs.push(valueInfo(name, type, shape));
    return name;
  }

  addOutput(name: string, type: ElemType, shape: Dim[]): string {
    this.usedNames.add(name);
    this.outputs.push(valueInfo(name, type, shape));
    return name;
  }

  /** A constant tensor; returns its name. */
  addInitializer(
    prefix: string,
    values: Float32Array | number[] | BigInt64Array | string[],
    dims: number[],
    type?: ElemType,
  ): string {
    const name = this.name(prefix);
    const t: onnx.ITensorProto = { name, dims };
    const elem: ElemType =
      type ??
      (values instanceof BigInt64Array
        ? 'int64'
        : Array.isArray(values) && typeof values[0] === 'string'
          ? 'string'
          : 'float');
    t.dataType = ELEM[elem];
    if (elem === 'float') t.floatData = Array.from(values as ArrayLike<number>);
    else if (elem === 'double') t.doubleData = Array.from(values as ArrayLike<number>);
    else if (elem === 'int64') t.int64Data = Array.from(values as ArrayLike<number | bigint>, (v) => Number(v));
    else if (elem === 'int32' || elem === 'bool') t.int32Data = Array.from(values as ArrayLike<number>);
    else if (elem === 'string') t.stringData = (values as string[]).map((s) => new TextEncoder().encode(s));
    this.initializers.push(t);
    return name;
  }

  /**
   * Adds a node. `outputs` may be a number (that many fresh names) or explicit names.
   * Returns the output names.
   */
  addNode(
    opType: string,
    inputs: string[],
    outputs: string[] | number = 1,
    attrs: Record<string, AttrValue> = {},
    domain = '',
  ): string[] {
    const outs =
      typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.name(opType.toLowerCase())) : outputs;
    for (const o of outs) this.usedNames.add(o);
    this.nodes.push({
      name: this.name(`node_${opType}`),
      opType,
      domain,
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** Serializes the model. Metadata values are stored as metadata_props (strings). */
  build(
    metadata: Record<string, string> = {},
    opsets: Record<string, number> = DEFAULT_OPSETS,
    docString = '',
  ): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'ml-loop',
      producerVersion: metadata.mlloop_version ?? '',
      docString,
      opsetImport: Object.entries(opsets).map(([domain, version]) => ({ domain, version })),
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, type: ElemType, shape: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[type],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: A.INT, i: v } : { name, type: A.FLOAT, f: v };
  }
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string')
      return { name, type: A.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
    return (v as number[]).every((x) => Number.isInteger(x))
      ? { name, type: A.INTS, ints: v as number[] }
      : { name, type: A.FLOATS, floats: v as number[] };
  }
  if ('ints' in v) return { name, type: A.INTS, ints: v.ints };
  if ('floats' in v) return { name, type: A.FLOATS, floats: v.floats };
  return { name, type: A.GRAPH, g: v };
}

/** Reads a serialized model back (tests, metadata inspection). */
export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  return onnx.ModelProto.decode(plainBytes(bytes));
}

/**
 * A Buffer as a plain Uint8Array view, for protobufjs: its Buffer reader makes an empty bytes field
 * with `new Buffer(0)`, which prints Node's DEP0005 deprecation warning (seen on `ml-loop serve`'s stderr).
 */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
}

export function readMetadata(bytes: Uint8Array): Record<string, string> {
  const m = decodeModel(bytes);
  return Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}

/** metadata_props in onnx.proto's ModelProto. */
const METADATA_PROPS_FIELD = 14;

/**
 * The serialized model with `metadata` set in its metadata_props (an existing key gets the new value).
 * Every other field is copied byte for byte, fields this ONNX schema does not know included: a model
 * exported by another tool (a script's torch.onnx.export) stays as it was but for the metadata.
 */
export function withMetadata(bytes: Uint8Array, metadata: Record<string, string>): Uint8Array {
  const reader = Reader.create(plainBytes(bytes));
  const kept: Uint8Array[] = [];
  while (reader.pos < bytes.length) {
    const start = reader.pos;
    const tag = reader.uint32();
    if (tag >>> 3 === METADATA_PROPS_FIELD && (tag & 7) === 2) {
      const entry = onnx.StringStringEntryProto.decode(reader.bytes());
      if (Object.hasOwn(metadata, entry.key)) continue;
    } else reader.skipType(tag & 7);
    kept.push(bytes.subarray(start, reader.pos));
  }
  // Fields of a message may come in any order and repeated ones add up: the new entries go last.
  kept.push(
    onnx.ModelProto.encode({
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    }).finish(),
  );
  return Buffer.concat(kept);
}
