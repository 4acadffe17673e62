// ModelInfer's messages read and written field by field over protobufjs's wire Reader and Writer,
// instead of @grpc/proto-loader's generic conversion (decode, then toObject; fromObject, then encode).
// Same objects as proto-loader gives with PROTO_LOADER_OPTIONS (./grpc.ts), same bytes out; what it
// saves is the per-call garbage of the generic conversion: under load it turned V8's collections of
// the large request buffers into full mark-compacts, which cost more CPU than the model's run
// (bench:server's wire part). Bytes fields (raw_input_contents, bytes_contents) are views of the
// received message, not copies. Unknown fields are skipped, as protobufjs does.
import { Reader, Writer } from 'protobufjs';
import { RAW_ALIGNMENT } from './datatypes';

/** InferParameter as proto-loader gives it: the set member(s) and, with `oneofs`, the member's name. */
export interface Parameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param';
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
}

export interface TensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: number[];
  uint_contents: number[];
  uint64_contents: number[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Buffer[];
}

export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters: Record<string, Parameter>;
  contents: TensorContents | null;
}

export interface InferRequestMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, Parameter>;
  inputs: InferInputTensor[];
  outputs: Array<{ name: string; parameters: Record<string, Parameter> }>;
  raw_input_contents: Buffer[];
}

/** A ModelInferResponse as the server builds it (fields left out are not sent). */
export interface InferResponseMessage {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, Parameter>;
  outputs?: Array<{
    name?: string;
    datatype?: string;
    shape?: number[];
    parameters?: Record<string, Parameter>;
    contents?: Partial<TensorContents> | null;
  }>;
  raw_output_contents?: Uint8Array[];
}

const VARINT = 0;
const FIXED64 = 1;
const DELIMITED = 2;
const FIXED32 = 5;

/** An int64 as a number: protobufjs reads it as a Long when the long package is there (it is, through proto-loader). */
const toNumber = (v: unknown): number => (typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber());

/** Reads a message's fields until `end`, handing each field number and wire type to `field`. */
function fields(r: Reader, end: number, field: (no: number, wire: number) => boolean): void {
  while (r.pos < end) {
    const tag = r.uint32();
    if (!field(tag >>> 3, tag & 7)) r.skipType(tag & 7);
  }
}

/** A repeated scalar, packed (one length-delimited run) or not (one element per tag), as decoders must accept both. */
function repeated<T>(r: Reader, wire: number, scalarWire: number, read: () => T, out: T[]): boolean {
  if (wire === DELIMITED) {
    const end = r.uint32() + r.pos;
    while (r.pos < end) out.push(read());
    return true;
  }
  if (wire !== scalarWire) return false;
  out.push(read());
  return true;
}

function parameter(r: Reader, end: number): Parameter {
  const p: Parameter = {};
  // As protobufjs's toObject: every member present is kept, the choice named is the last in field order.
  let choice = 0;
  fields(r, end, (no, wire) => {
    if (no === 1 && wire === VARINT) p.bool_param = r.bool();
    else if (no === 2 && wire === VARINT) p.int64_param = toNumber(r.int64());
    else if (no === 3 && wire === DELIMITED) p.string_param = r.string();
    else return false;
    choice = Math.max(choice, no);
    return true;
  });
  if (choice) p.parameter_choice = choice === 1 ? 'bool_param' : choice === 2 ? 'int64_param' : 'string_param';
  return p;
}

/** One entry of a map<string, InferParameter> into `into`. */
function parameterEntry(r: Reader, into: Record<string, Parameter>): void {
  const end = r.uint32() + r.pos;
  let key = '';
  let value: Parameter = {};
  fields(r, end, (no, wire) => {
    if (no === 1 && wire === DELIMITED) key = r.string();
    else if (no === 2 && wire === DELIMITED) value = parameter(r, r.uint32() + r.pos);
    else return false;
    return true;
  });
  into[key] = value;
}

function contents(r: Reader, end: number): TensorContents {
  const c: TensorContents = {
    bool_contents: [],
    int_contents: [],
    int64_contents: [],
    uint_contents: [],
    uint64_contents: [],
    fp32_contents: [],
    fp64_contents: [],
    bytes_contents: [],
  };
  fields(r, end, (no, wire) => {
    switch (no) {
      case 1:
        return repeated(r, wire, VARINT, () => r.bool(), c.bool_contents);
      case 2:
        return repeated(r, wire, VARINT, () => r.int32(), c.int_contents);
      case 3:
        return repeated(r, wire, VARINT, () => toNumber(r.int64()), c.int64_contents);
      case 4:
        return repeated(r, wire, VARINT, () => r.uint32(), c.uint_contents);
      case 5:
        return repeated(r, wire, VARINT, () => toNumber(r.uint64()), c.uint64_contents);
      case 6:
        return repeated(r, wire, FIXED32, () => r.float(), c.fp32_contents);
      case 7:
        return repeated(r, wire, FIXED64, () => r.double(), c.fp64_contents);
      case 8:
        if (wire !== DELIMITED) return false;
        c.bytes_contents.push(r.bytes() as Buffer);
        return true;
      default:
        return false;
    }
  });
  return c;
}

function inputTensor(r: Reader, end: number): InferInputTensor {
  const t: InferInputTensor = { name: '', datatype: '', shape: [], parameters: {}, contents: null };
  fields(r, end, (no, wire) => {
    if (no === 1 && wire === DELIMITED) t.name = r.string();
    else if (no === 2 && wire === DELIMITED) t.datatype = r.string();
    else if (no === 3) return repeated(r, wire, VARINT, () => toNumber(r.int64()), t.shape);
    else if (no === 4 && wire === DELIMITED) parameterEntry(r, t.parameters);
    else if (no === 5 && wire === DELIMITED) t.contents = contents(r, r.uint32() + r.pos);
    else return false;
    return true;
  });
  return t;
}

function requestedOutput(r: Reader, end: number): { name: string; parameters: Record<string, Parameter> } {
  const o = { name: '', parameters: {} as Record<string, Parameter> };
  fields(r, end, (no, wire) => {
    if (no === 1 && wire === DELIMITED) o.name = r.string();
    else if (no === 2 && wire === DELIMITED) parameterEntry(r, o.parameters);
    else return false;
    return true;
  });
  return o;
}

/** inference.ModelInferRequest → the object proto-loader gives (keepCase, longs as numbers, defaults, oneofs). */
export function decodeModelInferRequest(bytes: Uint8Array): InferRequestMessage {
  const r = Reader.create(bytes);
  const m: InferRequestMessage = {
    model_name: '',
    model_version: '',
    id: '',
    parameters: {},
    inputs: [],
    outputs: [],
    raw_input_contents: [],
  };
  fields(r, r.len, (no, wire) => {
    if (wire !== DELIMITED) return false;
    if (no === 1) m.model_name = r.string();
    else if (no === 2) m.model_version = r.string();
    else if (no === 3) m.id = r.string();
    else if (no === 4) parameterEntry(r, m.parameters);
    else if (no === 5) m.inputs.push(inputTensor(r, r.uint32() + r.pos));
    else if (no === 6) m.outputs.push(requestedOutput(r, r.uint32() + r.pos));
    else if (no === 7) m.raw_input_contents.push(r.bytes() as Buffer);
    else return false;
    return true;
  });
  return m;
}

/**
 * Moves each raw_input_contents entry back within `message` (the bytes the request was decoded from)
 * so that it starts at a RAW_ALIGNMENT boundary of the message's ArrayBuffer, where the bytes just
 * before it are free: already decoded and in no view (its own tag and length, the header fields
 * before it). A typed array can then be a view of the entry (datatypes.ts rawToElements) instead of a
 * copy into new memory, which for a 128 KiB tensor cost more than the move (the new pages are touched
 * for the first time). Entries without room stay where they are (rawToElements copies them).
 * `message` is changed: only for a buffer nobody reads again (grpc-js hands each message's own).
 */
export function alignRawContents(m: InferRequestMessage, message: Uint8Array): void {
  const raw = m.raw_input_contents;
  if (!raw.length) return;
  const start = message.byteOffset;
  const end = start + message.byteLength;
  // The views into the message, by position: the bytes between two of them are free. (An empty field
  // is a buffer of its own, not a view.)
  const views: Array<{ view: Uint8Array; raw: number }> = raw.map((view, i) => ({ view, raw: i }));
  for (const t of m.inputs) for (const view of t.contents?.bytes_contents ?? []) views.push({ view, raw: -1 });
  const inMessage = ({ view }: { view: Uint8Array }) =>
    view.byteLength > 0 && view.buffer === message.buffer && view.byteOffset >= start && view.byteOffset < end;
  const placed = views.filter(inMessage).sort((a, b) => a.view.byteOffset - b.view.byteOffset);
  const whole = new Uint8Array(message.buffer);
  let free = start;
  for (const entry of placed) {
    let view = entry.view;
    const to = view.byteOffset - (view.byteOffset % RAW_ALIGNMENT);
    if (entry.raw >= 0 && to < view.byteOffset && to >= free) {
      whole.copyWithin(to, view.byteOffset, view.byteOffset + view.byteLength);
      view = raw[entry.raw] = Buffer.from(message.buffer, to, view.byteLength);
    }
    free = view.byteOffset + view.byteLength;
  }
}

// ---------- writing: fields in field-number order, a field written when set (as protobufjs encodes) ----------

const tag = (no: number, wire: number) => (no << 3) | wire;

function writeParameters(w: Writer, no: number, params: Record<string, Parameter> | undefined): void {
  if (!params) return;
  for (const key of Object.keys(params)) {
    const p = params[key];
    w.uint32(tag(no, DELIMITED)).fork().uint32(tag(1, DELIMITED)).string(key);
    w.uint32(tag(2, DELIMITED)).fork();
    if (p.bool_param != null) w.uint32(tag(1, VARINT)).bool(p.bool_param);
    if (p.int64_param != null) w.uint32(tag(2, VARINT)).int64(p.int64_param);
    if (p.string_param != null) w.uint32(tag(3, DELIMITED)).string(p.string_param);
    w.ldelim().ldelim();
  }
}

function writePacked(w: Writer, no: number, values: number[] | boolean[] | undefined, write: (v: never) => void): void {
  if (!values?.length) return;
  w.uint32(tag(no, DELIMITED)).fork();
  for (const v of values) write(v as never);
  w.ldelim();
}

function writeContents(w: Writer, c: Partial<TensorContents>): void {
  writePacked(w, 1, c.bool_contents, (v: boolean) => w.bool(v));
  writePacked(w, 2, c.int_contents, (v: number) => w.int32(v));
  writePacked(w, 3, c.int64_contents, (v: number) => w.int64(v));
  writePacked(w, 4, c.uint_contents, (v: number) => w.uint32(v));
  writePacked(w, 5, c.uint64_contents, (v: number) => w.uint64(v));
  writePacked(w, 6, c.fp32_contents, (v: number) => w.float(v));
  writePacked(w, 7, c.fp64_contents, (v: number) => w.double(v));
  for (const b of c.bytes_contents ?? []) w.uint32(tag(8, DELIMITED)).bytes(b);
}

/** inference.ModelInferResponse → its bytes, as proto-loader's serializer writes them. */
export function encodeModelInferResponse(m: InferResponseMessage): Buffer {
  const w = Writer.create();
  if (m.model_name != null) w.uint32(tag(1, DELIMITED)).string(m.model_name);
  if (m.model_version != null) w.uint32(tag(2, DELIMITED)).string(m.model_version);
  if (m.id != null) w.uint32(tag(3, DELIMITED)).string(m.id);
  writeParameters(w, 4, m.parameters);
  for (const o of m.outputs ?? []) {
    w.uint32(tag(5, DELIMITED)).fork();
    if (o.name != null) w.uint32(tag(1, DELIMITED)).string(o.name);
    if (o.datatype != null) w.uint32(tag(2, DELIMITED)).string(o.datatype);
    writePacked(w, 3, o.shape, (v: number) => w.int64(v));
    writeParameters(w, 4, o.parameters);
    if (o.contents != null) {
      w.uint32(tag(5, DELIMITED)).fork();
      writeContents(w, o.contents);
      w.ldelim();
    }
    w.ldelim();
  }
  for (const b of m.raw_output_contents ?? []) w.uint32(tag(6, DELIMITED)).bytes(b);
  return w.finish() as Buffer;
}
