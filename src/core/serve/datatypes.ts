// Open Inference Protocol v2 datatypes ↔ onnxruntime tensor types, and the JSON codecs between
// an OIP tensor's `data` (nested or flat JSON) and the typed arrays ORT takes and returns.
// Every check names the tensor, the element and what was expected: bad input is a 400, never a crash.
import * as ort from 'onnxruntime-node';
import type { TensorData } from './engine';
import { BadRequest } from './errors';

export type OipDatatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

export const OIP_TO_ORT: Record<OipDatatype, ort.Tensor.Type> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const ORT_TO_OIP = new Map<string, OipDatatype>(Object.entries(OIP_TO_ORT).map(([oip, t]) => [t, oip as OipDatatype]));

export function oipDatatypeOf(ortType: string): OipDatatype | undefined {
  return ORT_TO_OIP.get(ortType);
}

const OIP_DATATYPES = new Set<string>(Object.keys(OIP_TO_ORT));

export function isOipDatatype(s: unknown): s is OipDatatype {
  return typeof s === 'string' && OIP_DATATYPES.has(s);
}

/** Integer ranges per integer datatype (64-bit ones as far as a JSON number is exact). */
const INT_RANGE: Partial<Record<OipDatatype, [number, number]>> = {
  UINT8: [0, 0xff],
  UINT16: [0, 0xffff],
  UINT32: [0, 0xffffffff],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  INT8: [-0x80, 0x7f],
  INT16: [-0x8000, 0x7fff],
  INT32: [-0x80000000, 0x7fffffff],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

const FP32_MAX = 3.4028234663852886e38;
const FP16_MAX = 65504;

/**
 * Flattens `data` (flat, or nested exactly along `shape`) into a list of elements; throws BadRequest
 * when the nesting or the count disagrees with the shape.
 */
export function flattenData(name: string, data: unknown, shape: number[]): unknown[] {
  if (!Array.isArray(data)) throw new BadRequest(`input "${name}": "data" must be a JSON array, got ${jsonKind(data)}`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length > 0 && Array.isArray(data[0])) {
    const out: unknown[] = [];
    const walk = (node: unknown, depth: number, path: string): void => {
      if (depth === shape.length) {
        if (Array.isArray(node))
          throw new BadRequest(`input "${name}": data${path} is nested deeper than shape [${shape.join(', ')}]`);
        out.push(node);
        return;
      }
      if (!Array.isArray(node))
        throw new BadRequest(
          `input "${name}": data${path} should be an array of ${shape[depth]} (shape [${shape.join(', ')}]), got ${jsonKind(node)}`,
        );
      if (node.length !== shape[depth])
        throw new BadRequest(
          `input "${name}": data${path} has ${node.length} elements but shape [${shape.join(', ')}] says ${shape[depth]} at dimension ${depth}`,
        );
      for (let i = 0; i < node.length; i++) walk(node[i], depth + 1, `${path}[${i}]`);
    };
    walk(data, 0, '');
    return out;
  }
  if (data.length !== count)
    throw new BadRequest(
      `input "${name}": shape [${shape.join(', ')}] needs ${count} elements, "data" has ${data.length}`,
    );
  return data;
}

/** Converts the flat JSON elements of one input into the typed array for its datatype. */
export function encodeElements(name: string, datatype: OipDatatype, values: unknown[]): ort.Tensor.DataType {
  const n = values.length;
  const bad = (i: number, expected: string): never => {
    throw new BadRequest(`input "${name}" (${datatype}): element ${i} is ${describe(values[i])}, expected ${expected}`);
  };
  switch (datatype) {
    case 'BYTES': {
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'string') bad(i, 'a string');
        out[i] = v as string;
      }
      return out;
    }
    case 'BOOL': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'boolean') bad(i, 'true or false');
        out[i] = v ? 1 : 0;
      }
      return out;
    }
    case 'FP32':
    case 'FP64':
    case 'FP16': {
      const out =
        datatype === 'FP32' ? new Float32Array(n) : datatype === 'FP64' ? new Float64Array(n) : new Uint16Array(n);
      const max = datatype === 'FP32' ? FP32_MAX : datatype === 'FP16' ? FP16_MAX : Number.MAX_VALUE;
      // Values a hair above the largest finite value still round to it; FP64's limit is exact (beyond it lies Infinity).
      const limit = datatype === 'FP64' ? max : max * (1 + 2 ** -11);
      const half = datatype === 'FP16';
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number') bad(i, 'a number');
        // JSON.parse turns 1e999 into Infinity; the model cannot take it (nor NaN: both comparisons fail).
        if (!((v as number) >= -limit && (v as number) <= limit))
          bad(i, `a finite number within ±${max} (${datatype})`);
        out[i] = half ? toHalf(v as number) : (v as number);
      }
      return out;
    }
    default: {
      const [lo, hi] = INT_RANGE[datatype]!;
      const expected = `an integer in [${lo}, ${hi}]`;
      if (datatype === 'INT64' || datatype === 'UINT64') {
        const out = datatype === 'INT64' ? new BigInt64Array(n) : new BigUint64Array(n);
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) bad(i, expected);
          out[i] = BigInt(v as number);
        }
        return out;
      }
      const Ctor = {
        UINT8: Uint8Array,
        UINT16: Uint16Array,
        UINT32: Uint32Array,
        INT8: Int8Array,
        INT16: Int16Array,
        INT32: Int32Array,
      }[datatype as 'UINT8'];
      const out = new Ctor(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) bad(i, expected);
        out[i] = v as number;
      }
      return out;
    }
  }
}

/** A flat JSON array of a tensor's elements (BigInts as numbers, FP16 bits as numbers, BOOL as booleans). */
export function decodeElements(tensor: TensorData): Array<number | string | boolean> {
  const data = tensor.data;
  switch (tensor.type) {
    case 'bool':
      return Array.from(data as Uint8Array, (v) => v !== 0);
    case 'float16':
      return Array.from(data as Uint16Array, fromHalf);
    case 'int64':
    case 'uint64':
      return Array.from(data as BigInt64Array, (v) => Number(v));
    case 'string':
      return (data as string[]).slice();
    default: {
      // A plain loop (Array.from goes through the iterator protocol), pushing so the array stays packed:
      // JSON.stringify takes a slow path for holey arrays such as new Array(n).
      const src = data as Float32Array;
      const out: number[] = [];
      for (let i = 0; i < src.length; i++) out.push(src[i]);
      return out;
    }
  }
}

/** Rows [start, end) of a tensor whose first dimension is the batch (a view for typed arrays). */
export function sliceRows(tensor: TensorData, start: number, end: number): TensorData {
  const dims = tensor.dims;
  let per = 1;
  for (let k = 1; k < dims.length; k++) per *= dims[k];
  const data = tensor.data as Float32Array | string[];
  const part = Array.isArray(data) ? data.slice(start * per, end * per) : data.subarray(start * per, end * per);
  const rowDims = dims.slice();
  rowDims[0] = end - start;
  return { type: tensor.type, data: part, dims: rowDims };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of a number, round to nearest even (as numpy's float16 cast). */
export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && m & 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

export function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number') return String(v);
  return jsonKind(v);
}

// ---------- raw tensor bytes (the binary data extension, gRPC raw contents) ----------
// Little-endian, as Triton and KServe lay tensors out: fixed-size elements back to back; a BYTES
// element is a 4-byte length followed by its bytes.

const ELEMENT_BYTES: Partial<Record<OipDatatype, number>> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

const RAW_ARRAY: Partial<
  Record<OipDatatype, new (b: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<unknown>>
> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  INT8: Int8Array,
  UINT16: Uint16Array,
  INT16: Int16Array,
  FP16: Uint16Array,
  UINT32: Uint32Array,
  INT32: Int32Array,
  FP32: Float32Array,
  UINT64: BigUint64Array,
  INT64: BigInt64Array,
  FP64: Float64Array,
};

/** The elements of a BYTES tensor in raw form: each a 4-byte little-endian length, then the bytes. */
export function splitRawBytes(name: string, bytes: Uint8Array, count: number): Buffer[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > buf.length)
      throw new BadRequest(`input "${name}" (BYTES): the raw data ends before element ${i} of ${count}`);
    const n = buf.readUInt32LE(at);
    if (at + 4 + n > buf.length)
      throw new BadRequest(
        `input "${name}" (BYTES): element ${i} says ${n} bytes but only ${buf.length - at - 4} remain in the raw data`,
      );
    out.push(buf.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  if (at !== buf.length)
    throw new BadRequest(`input "${name}" (BYTES): ${buf.length - at} bytes of raw data after the ${count} elements`);
  return out;
}

/**
 * A tensor's typed data from raw bytes (BYTES: UTF-8 strings), its size checked against the shape.
 * Floats are taken as sent, NaN included (ML Loop's models read NaN as a missing value; JSON cannot
 * carry NaN, so the JSON path has no such case), as Triton takes raw tensors.
 */
export function rawToElements(
  name: string,
  datatype: OipDatatype,
  shape: number[],
  bytes: Uint8Array,
): ort.Tensor.DataType {
  const count = shape.reduce((a, b) => a * b, 1);
  if (datatype === 'BYTES') return splitRawBytes(name, bytes, count).map((b) => b.toString('utf8'));
  const size = ELEMENT_BYTES[datatype]!;
  if (bytes.byteLength !== count * size)
    throw new BadRequest(
      `input "${name}": shape [${shape.join(', ')}] of ${datatype} needs ${count * size} bytes, the raw data has ${bytes.byteLength}`,
    );
  const Typed = RAW_ARRAY[datatype]!;
  // A view of the request's bytes when they sit aligned for the typed array (the REST server lays the
  // binary data extension's bytes out so); else a copy, into memory not zero-filled first.
  if (bytes.byteOffset % size === 0) return new Typed(bytes.buffer, bytes.byteOffset, count) as ort.Tensor.DataType;
  const copy = Buffer.allocUnsafe(count * size);
  copy.set(bytes);
  return new Typed(copy.buffer, copy.byteOffset, count) as ort.Tensor.DataType;
}

/** The alignment raw tensor bytes need to be taken as a typed array without a copy (the widest element). */
export const RAW_ALIGNMENT = 8;

/** A tensor's data as raw bytes (the inverse of rawToElements). */
export function elementsToRaw(tensor: TensorData): Buffer {
  const data = tensor.data;
  if (Array.isArray(data)) {
    // One buffer for all elements (a label output has one short string per row). ASCII strings are
    // copied byte by byte: for short strings a native utf8 write per element costs more than the copy.
    const strings = (data as unknown[]).map(String);
    let size = 0;
    for (const s of strings) size += 4 + (isAscii(s) ? s.length : Buffer.byteLength(s));
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (const s of strings) {
      let n: number;
      if (isAscii(s)) {
        n = s.length;
        for (let i = 0; i < n; i++) out[at + 4 + i] = s.charCodeAt(i);
      } else n = out.write(s, at + 4);
      out.writeUInt32LE(n, at);
      at += 4 + n;
    }
    return out;
  }
  const typed = data as Uint8Array;
  return Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}
