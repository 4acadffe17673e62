// The columnar request log: beside each `requests-*.jsonl` the server writes `requests-*.cols`, the
// same records in a framed binary form that monitoring reads without parsing JSON (1M requests × 20
// features in well under a second, where parsing the JSON Lines takes tens of seconds here).
// The JSON Lines stay the source of truth; a folder without .cols files is read from them.
//
// Little-endian records, each framed so a reader can skip, detect a truncated tail and resync:
//   u32 MAGIC, u32 length (of the whole record), u8 type, …, u32 length again (last 4 bytes)
// type 1, schema: u16 index, then strings (u16 byte length + UTF-8): model, version, runId, task,
//   u16 F + F feature names, u16 K + K category names, u16 C + C class names.
// type 2, request: u8 flags, u16 schema index (0xFFFF: none), u16 status, u16 id length, f64 time (ms),
//   f32 latency (ms), u32 rows n, id bytes, padding to 4; then n·F f32 features, then for C > 0 n·C f32
//   probabilities and n i32 predicted class indices, for C = 0 and task regression n f32 predictions;
//   then n·K strings (u16 + UTF-8).
// Schemas are numbered per file (a hot swap adds one); a request refers to the newest with its index.

export const COLS_MAGIC = 0x314c434d; // "MCL1"
export const COLS_EXT = '.cols';
const NO_SCHEMA = 0xffff;

export interface LogSchema {
  model: string;
  version: string;
  runId: string;
  task: string;
  features: string[];
  categories: string[];
  classes: string[];
}

/** What the server knows of one request, in the model's tensor layout (no JSON). */
export interface ColumnarRequest {
  time: number;
  id: string;
  status: number;
  latencyMs: number;
  schema?: LogSchema;
  rows: number;
  numeric?: Float32Array;
  categories?: string[];
  probabilities?: Float32Array;
  classIndex?: Int32Array;
  values?: Float32Array;
}

/**
 * One request as read back. The typed arrays may be views of a whole file, shared by its records:
 * a record's values start at the `…At` element offsets (row i, feature j: numeric[numericAt + i·F + j]).
 */
export interface LogRecordView {
  time: number;
  id: string;
  status: number;
  latencyMs: number;
  schema: LogSchema | undefined;
  rows: number;
  numeric: Float32Array | undefined;
  categories: string[] | undefined;
  probabilities: Float32Array | undefined;
  classIndex: Int32Array | undefined;
  values: Float32Array | undefined;
  numericAt: number;
  probabilitiesAt: number;
  classIndexAt: number;
  valuesAt: number;
  /** Classification labels by name (JSON Lines records), when classIndex is not known. */
  labels?: string[];
}

/** Encodes records for one file: remembers which schemas the file already has. */
export class ColumnarEncoder {
  private readonly schemas = new Map<string, number>();

  /** Forget the schemas (a new file starts). */
  reset(): void {
    this.schemas.clear();
  }

  encode(r: ColumnarRequest): Buffer {
    const parts: Buffer[] = [];
    let schemaIndex = NO_SCHEMA;
    if (r.schema) {
      const key = JSON.stringify([
        r.schema.model,
        r.schema.version,
        r.schema.runId,
        r.schema.features,
        r.schema.categories,
        r.schema.classes,
      ]);
      const known = this.schemas.get(key);
      if (known === undefined) {
        schemaIndex = this.schemas.size;
        this.schemas.set(key, schemaIndex);
        parts.push(encodeSchema(schemaIndex, r.schema));
      } else schemaIndex = known;
    }
    parts.push(encodeRequest(r, schemaIndex));
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}

function strBytes(s: string): number {
  return 2 + Math.min(Buffer.byteLength(s), 0xffff);
}

function writeStr(buf: Buffer, off: number, s: string): number {
  const n = buf.write(s, off + 2, 'utf8');
  buf.writeUInt16LE(n, off);
  return off + 2 + n;
}

function frame(body: number): { buf: Buffer; off: number } {
  const len = (8 + body + 4 + 3) & ~3;
  const buf = Buffer.alloc(len);
  buf.writeUInt32LE(COLS_MAGIC, 0);
  buf.writeUInt32LE(len, 4);
  buf.writeUInt32LE(len, len - 4);
  return { buf, off: 8 };
}

function encodeSchema(index: number, s: LogSchema): Buffer {
  const lists = [s.features, s.categories, s.classes];
  const body =
    1 +
    2 +
    [s.model, s.version, s.runId, s.task].reduce((a, x) => a + strBytes(x), 0) +
    lists.reduce((a, l) => a + 2 + l.reduce((b, x) => b + strBytes(x), 0), 0);
  const { buf } = frame(body);
  let off = 8;
  buf.writeUInt8(1, off++);
  buf.writeUInt16LE(index, off);
  off += 2;
  for (const x of [s.model, s.version, s.runId, s.task]) off = writeStr(buf, off, x);
  for (const l of lists) {
    buf.writeUInt16LE(l.length, off);
    off += 2;
    for (const x of l) off = writeStr(buf, off, x);
  }
  return buf;
}

function encodeRequest(r: ColumnarRequest, schemaIndex: number): Buffer {
  const s = r.schema;
  const n = s && r.numeric ? r.rows : 0;
  const F = s?.features.length ?? 0;
  const K = s?.categories.length ?? 0;
  const C = s?.classes.length ?? 0;
  const idLen = Math.min(Buffer.byteLength(r.id), 0xffff);
  const head = 1 + 1 + 2 + 2 + 2 + 8 + 4 + 4; // type … rows: 24 bytes after the 8-byte frame header
  const idPad = (idLen + 3) & ~3;
  const outputs = n === 0 ? 0 : C > 0 ? n * C * 4 + n * 4 : s!.task === 'regression' ? n * 4 : 0;
  let cats = 0;
  if (n && K) for (let i = 0; i < n * K; i++) cats += strBytes(r.categories?.[i] ?? '');
  const { buf } = frame(head + idPad + n * F * 4 + outputs + cats);
  let off = 8;
  buf.writeUInt8(2, off);
  buf.writeUInt8(n && C > 0 && r.probabilities && r.classIndex ? 1 : n && r.values ? 2 : 0, off + 1);
  buf.writeUInt16LE(schemaIndex, off + 2);
  buf.writeUInt16LE(Math.min(r.status, 0xffff), off + 4);
  buf.writeUInt16LE(idLen, off + 6);
  buf.writeDoubleLE(r.time, off + 8);
  buf.writeFloatLE(r.latencyMs, off + 16);
  buf.writeUInt32LE(n, off + 20);
  off += head;
  buf.write(r.id, off, idLen, 'utf8');
  off += idPad;
  if (n) {
    const f = new Float32Array(buf.buffer, buf.byteOffset + off, n * F);
    f.set(r.numeric!.subarray(0, n * F));
    off += n * F * 4;
    if (C > 0) {
      if (r.probabilities)
        new Float32Array(buf.buffer, buf.byteOffset + off, n * C).set(r.probabilities.subarray(0, n * C));
      off += n * C * 4;
      if (r.classIndex) new Int32Array(buf.buffer, buf.byteOffset + off, n).set(r.classIndex.subarray(0, n));
      off += n * 4;
    } else if (s!.task === 'regression') {
      if (r.values) new Float32Array(buf.buffer, buf.byteOffset + off, n).set(r.values.subarray(0, n));
      off += n * 4;
    }
    if (K) for (let i = 0; i < n * K; i++) off = writeStr(buf, off, r.categories?.[i] ?? '');
  }
  return buf;
}

export interface ColumnarScan {
  /** Byte offsets of the request records, in file order. */
  requests: number[];
  /** Schema index → schema, and for each request the schemas table as of that record (indices are per file). */
  schemas: Map<number, LogSchema>;
  /** Frames that were not records (corruption), and whether the file ends in a truncated record. */
  corrupt: number;
  truncated: boolean;
}

/** Walks a .cols file's frames: the offsets of its requests and its schemas. Resyncs on the magic after corruption. */
export function scanColumnar(buf: Buffer): ColumnarScan {
  const out: ColumnarScan = { requests: [], schemas: new Map(), corrupt: 0, truncated: false };
  let off = 0;
  while (off + 12 <= buf.length) {
    const len = buf.readUInt32LE(off + 4);
    const ok = buf.readUInt32LE(off) === COLS_MAGIC && len >= 12 && len % 4 === 0;
    if (ok && off + len > buf.length) {
      out.truncated = true;
      return out;
    }
    if (!ok || buf.readUInt32LE(off + len - 4) !== len) {
      out.corrupt++;
      off = resync(buf, off + 4);
      continue;
    }
    const type = buf.readUInt8(off + 8);
    if (type === 1) {
      try {
        const { index, schema } = decodeSchema(buf, off);
        out.schemas.set(index, schema);
      } catch {
        out.corrupt++;
      }
    } else if (type === 2) out.requests.push(off);
    else out.corrupt++;
    off += len;
  }
  if (off < buf.length) out.truncated = true;
  return out;
}

function resync(buf: Buffer, from: number): number {
  let at = from;
  while (at + 4 <= buf.length) {
    const k = buf.indexOf(0x4d, at); // first byte of the magic, little-endian
    if (k < 0 || k + 4 > buf.length) return buf.length;
    if (k % 4 === 0 && buf.readUInt32LE(k) === COLS_MAGIC) return k;
    at = k + 1;
  }
  return buf.length;
}

function readStr(buf: Buffer, off: number): [string, number] {
  const n = buf.readUInt16LE(off);
  if (off + 2 + n > buf.length) throw new RangeError('string past the record');
  return [buf.toString('utf8', off + 2, off + 2 + n), off + 2 + n];
}

function decodeSchema(buf: Buffer, start: number): { index: number; schema: LogSchema } {
  let off = start + 9;
  const index = buf.readUInt16LE(off);
  off += 2;
  const strs: string[] = [];
  for (let i = 0; i < 4; i++) {
    const [s, o] = readStr(buf, off);
    strs.push(s);
    off = o;
  }
  const lists: string[][] = [];
  for (let l = 0; l < 3; l++) {
    const n = buf.readUInt16LE(off);
    off += 2;
    const list: string[] = [];
    for (let i = 0; i < n; i++) {
      const [s, o] = readStr(buf, off);
      list.push(s);
      off = o;
    }
    lists.push(list);
  }
  return {
    index,
    schema: {
      model: strs[0],
      version: strs[1],
      runId: strs[2],
      task: strs[3],
      features: lists[0],
      categories: lists[1],
      classes: lists[2],
    },
  };
}

/** Float32 and Int32 views of a whole (4-byte aligned) file buffer, shared by the views of its records. */
export interface SharedViews {
  f32: Float32Array;
  i32: Int32Array;
}

export function sharedViews(buf: Buffer): SharedViews {
  if (buf.byteOffset % 4) throw new Error('the columnar buffer must be 4-byte aligned');
  return {
    f32: new Float32Array(buf.buffer, buf.byteOffset, buf.length >> 2),
    i32: new Int32Array(buf.buffer, buf.byteOffset, buf.length >> 2),
  };
}

/**
 * Decodes the request at `start` into `view` (reused; its arrays are the file's shared views, with
 * offsets). `schemaAt` gives the schema an index refers to at that point of the file. The id is decoded
 * only when `wantId` (it costs a string per record). Returns false for a record that does not fit its
 * schema (reported as corrupt by the caller).
 */
export function decodeRequest(
  buf: Buffer,
  start: number,
  schemaAt: (index: number) => LogSchema | undefined,
  view: LogRecordView,
  shared: SharedViews,
  wantId = true,
): boolean {
  const len = buf.readUInt32LE(start + 4);
  const end = start + len - 4;
  let off = start + 8;
  const flags = buf.readUInt8(off + 1);
  const si = buf.readUInt16LE(off + 2);
  view.status = buf.readUInt16LE(off + 4);
  const idLen = buf.readUInt16LE(off + 6);
  view.time = buf.readDoubleLE(off + 8);
  view.latencyMs = buf.readFloatLE(off + 16);
  const n = buf.readUInt32LE(off + 20);
  off += 24;
  view.id = wantId ? buf.toString('utf8', off, off + idLen) : '';
  off += (idLen + 3) & ~3;
  view.schema = si === NO_SCHEMA ? undefined : schemaAt(si);
  view.rows = n;
  view.numeric = view.probabilities = view.classIndex = view.values = view.categories = undefined;
  view.labels = undefined;
  if (n === 0) return true;
  const s = view.schema;
  if (!s) return false;
  const F = s.features.length;
  const K = s.categories.length;
  const C = s.classes.length;
  if (off + n * F * 4 > end) return false;
  view.numeric = shared.f32;
  view.numericAt = off >> 2;
  off += n * F * 4;
  if (C > 0) {
    if (off + n * C * 4 + n * 4 > end) return false;
    if (flags === 1) {
      view.probabilities = shared.f32;
      view.probabilitiesAt = off >> 2;
    }
    off += n * C * 4;
    if (flags === 1) {
      view.classIndex = shared.i32;
      view.classIndexAt = off >> 2;
    }
    off += n * 4;
  } else if (s.task === 'regression') {
    if (off + n * 4 > end) return false;
    if (flags === 2) {
      view.values = shared.f32;
      view.valuesAt = off >> 2;
    }
    off += n * 4;
  }
  if (K) {
    const cats = new Array<string>(n * K);
    for (let i = 0; i < n * K; i++) {
      if (off + 2 > end) return false;
      const [v, o] = readStr(buf, off);
      if (o > end) return false;
      cats[i] = v;
      off = o;
    }
    view.categories = cats;
  }
  return true;
}

export function emptyView(): LogRecordView {
  return {
    time: 0,
    id: '',
    status: 0,
    latencyMs: 0,
    schema: undefined,
    rows: 0,
    numeric: undefined,
    categories: undefined,
    probabilities: undefined,
    classIndex: undefined,
    values: undefined,
    numericAt: 0,
    probabilitiesAt: 0,
    classIndexAt: 0,
    valuesAt: 0,
  };
}
