// The Open Inference Protocol over gRPC: `inference.GRPCInferenceService` of KServe's
// grpc_predict_v2.proto (shipped beside this module and copied beside the bundles by the build), served
// with @grpc/grpc-js from the .proto loaded by @grpc/proto-loader (ModelInfer's messages through
// ./grpcCodec.ts, the hot path's codec). Off unless `--grpc-port` asks for it;
// it listens on the REST server's host (loopback by default) and takes the same bearer token (metadata
// `authorization: Bearer <token>`). Requests go through the same begin/execute/end as REST
// (./server.ts), so models, versions, aliases, batching, metrics, statistics and the request log are
// shared. Inputs come as raw_input_contents or typed contents; outputs go back as raw_output_contents.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import { join } from 'node:path';
import { elementsToRaw } from './datatypes';
import type { Outputs } from './engine';
import { BadRequest, HttpError } from './errors';
import type { Exchange } from './exchange';
import {
  alignRawContents,
  decodeModelInferRequest,
  encodeModelInferResponse,
  type InferRequestMessage,
  type Parameter,
  type TensorContents,
} from './grpcCodec';
import { parseInferRequest, type InferRequest, type RawInputs } from './infer';

export const PROTO_FILE = 'grpc_predict_v2.proto';

/** The .proto: beside the bundle (dist/, where the build copies it) or beside this module (run from source). */
export function protoPath(): string {
  return join(__dirname, PROTO_FILE);
}

/** How the messages are read: field names as in the .proto, int64 as numbers (shapes), oneof names set. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The HTTP/2 flow-control window the server grants (connection and streams). */
export const FLOW_CONTROL_WINDOW = 16 * 1024 * 1024;

/**
 * Grants a client's session FLOW_CONTROL_WINDOW of request data. HTTP/2's default window (64 KiB, for
 * the connection and for each stream) makes a 128 KiB request wait for WINDOW_UPDATEs, and a server
 * busy with a run sends them late: 512-row requests one at a time went about 1.4× faster with the window
 * (bench:server, wire part). grpc-js 1.14 reads `grpc-node.flow_control_window` on clients only
 * (grpc/grpc-node PR #3058 would add it to servers), so the server's HTTP/2 sessions are reached
 * through its http2 servers, a private field: if a later grpc-js renames it, nothing breaks but the
 * window (test/unit/serve/grpc.test.ts pins it).
 */
function widenFlowControl(server: grpc.Server): void {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) return;
  for (const h of http2Servers.keys() as IterableIterator<Http2Server>) {
    if (h.listeners('session').includes(widenSession)) continue;
    h.on('session', widenSession);
  }
}

function widenSession(session: ServerHttp2Session): void {
  // Never thrown for a new session; if it were, the session keeps HTTP/2's default window, the server lives on.
  try {
    session.setLocalWindowSize(FLOW_CONTROL_WINDOW);
    session.settings({ initialWindowSize: FLOW_CONTROL_WINDOW });
  } catch {}
}

/**
 * ModelInfer's request as the server reads it: decoded, its raw tensors moved to aligned offsets of
 * the message so they are taken without a copy. grpc-js hands each message in a buffer of its own
 * (assembled from the DATA frames) and does not read it again, so it may be rearranged.
 */
export function receiveModelInferRequest(message: Buffer): InferRequestMessage {
  const m = decodeModelInferRequest(message);
  alignRawContents(m, message);
  return m;
}

/** What the gRPC service needs of the inference server (InferenceServer implements it). */
export interface GrpcBackend {
  tokenMatches(authorization: string | undefined): boolean;
  readonly requiresToken: boolean;
  isReady(): boolean;
  serverMetadata(): Record<string, unknown>;
  modelMetadata(name: string, version?: string): Record<string, unknown>;
  begin(name: string, version: string | undefined, action: 'infer'): Exchange;
  execute(x: Exchange, request: InferRequest, headerId: string | undefined): Promise<Outputs>;
  end(x: Exchange, headerId: string | undefined): void;
}

/** HTTP status of an HttpError → gRPC status code. */
const GRPC_STATUS: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT,
  401: grpc.status.UNAUTHENTICATED,
  404: grpc.status.NOT_FOUND,
  408: grpc.status.DEADLINE_EXCEEDED,
  409: grpc.status.FAILED_PRECONDITION,
  413: grpc.status.RESOURCE_EXHAUSTED,
  503: grpc.status.UNAVAILABLE,
};

export function grpcError(e: unknown): Partial<grpc.ServiceError> {
  if (e instanceof HttpError) return { code: GRPC_STATUS[e.status] ?? grpc.status.INTERNAL, details: e.message };
  return { code: grpc.status.INTERNAL, details: `internal error: ${(e as Error)?.message ?? String(e)}` };
}

/** An InferParameter map → plain values. */
function parameterValues(p: Record<string, Parameter> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p ?? {}))
    out[k] = v.parameter_choice ? v[v.parameter_choice as keyof Parameter] : undefined;
  return out;
}

/** The typed contents field of each datatype (FP16 has none: raw only). */
const CONTENTS_FIELD: Record<string, keyof TensorContents> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

/** BYTES elements laid out as raw contents (4-byte length, then the bytes). */
function framed(elements: unknown[]): Buffer {
  return Buffer.concat(
    elements.flatMap((e) => {
      const b = Buffer.isBuffer(e) ? e : Buffer.from(e as Uint8Array);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      return [len, b];
    }),
  );
}

/**
 * A ModelInferRequest as the JSON body /infer takes, and its raw bytes: raw_input_contents[i] for
 * input i, or a BYTES input's bytes_contents (framed as raw contents). Typed contents become `data`.
 */
export function toInferBody(req: InferRequestMessage): { body: Record<string, unknown>; raw: RawInputs } {
  const rawContents = req.raw_input_contents ?? [];
  if (rawContents.length && rawContents.length !== req.inputs.length)
    throw new BadRequest(`raw_input_contents has ${rawContents.length} entries for ${req.inputs.length} inputs`);
  const bytesInputs = new Map<number, Buffer>();
  const inputs = req.inputs.map((t, i) => {
    const out: Record<string, unknown> = {
      name: t.name,
      datatype: t.datatype,
      shape: t.shape.map(Number),
      parameters: parameterValues(t.parameters),
    };
    if (t.contents && !rawContents.length) {
      const field = CONTENTS_FIELD[t.datatype];
      if (!field)
        throw new BadRequest(`input "${t.name}" (${t.datatype}) has no typed contents field: send raw_input_contents`);
      const elements = t.contents[field] ?? [];
      if (t.datatype === 'BYTES') bytesInputs.set(i, framed(elements));
      else out.data = t.datatype === 'BOOL' ? elements : elements.map(Number);
    } else if (!rawContents.length) out.data = [];
    return out;
  });
  const raw: RawInputs = {
    take(name, index) {
      const bytes = rawContents.length ? rawContents[index] : bytesInputs.get(index);
      if (!bytes) throw new BadRequest(`input "${name}" has no contents`);
      return bytes;
    },
  };
  const body: Record<string, unknown> = { inputs, parameters: parameterValues(req.parameters) };
  if (req.id) body.id = req.id;
  if (req.outputs.length) body.outputs = req.outputs.map((o) => ({ name: o.name }));
  return { body, raw };
}

/** The gRPC service of one inference server, on its own port. */
export class GrpcInferenceServer {
  readonly server: grpc.Server;
  url = '';

  constructor(
    private readonly backend: GrpcBackend,
    maxMessageBytes: number,
  ) {
    const definition = protoLoader.loadSync(protoPath(), PROTO_LOADER_OPTIONS);
    const proto = grpc.loadPackageDefinition(definition) as unknown as {
      inference: { GRPCInferenceService: { service: grpc.ServiceDefinition } };
    };
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': maxMessageBytes,
      'grpc.max_send_message_length': -1,
      // Read by grpc-js clients only so far (see widenFlowControl, which does it for this server).
      'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW,
      // Channelz (grpc-js's introspection service, which this server does not offer) costs every call
      // its bookkeeping (trackers, timestamps).
      'grpc.enable_channelz': 0,
    });
    const service = proto.inference.GRPCInferenceService.service;
    this.server.addService(
      {
        ...service,
        // ModelInfer's messages through ./grpcCodec.ts (the same objects and bytes, without proto-loader's generic conversion).
        ModelInfer: {
          ...service.ModelInfer,
          requestDeserialize: receiveModelInferRequest,
          responseSerialize: encodeModelInferResponse,
        },
      },
      {
        ServerLive: this.unary(() => ({ live: true })),
        ServerReady: this.unary(() => ({ ready: this.backend.isReady() })),
        ModelReady: this.unary((r: { name: string; version: string }) => {
          try {
            this.backend.modelMetadata(r.name, r.version || undefined);
            return { ready: true };
          } catch (e) {
            if (e instanceof HttpError && e.status === 404) return { ready: false };
            throw e;
          }
        }),
        ServerMetadata: this.unary(() => this.backend.serverMetadata()),
        ModelMetadata: this.unary((r: { name: string; version: string }) => {
          const m = this.backend.modelMetadata(r.name, r.version || undefined);
          return { name: m.name, versions: m.versions, platform: m.platform, inputs: m.inputs, outputs: m.outputs };
        }),
        ModelInfer: this.unary((r: InferRequestMessage, call) => this.infer(r, call)),
      },
    );
  }

  /** A unary handler: the token checked, errors as gRPC statuses. */
  private unary<Req, Res>(
    handle: (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      if (this.backend.requiresToken) {
        const auth = call.metadata.get('authorization')[0];
        if (!this.backend.tokenMatches(typeof auth === 'string' ? auth : undefined))
          return callback({
            code: grpc.status.UNAUTHENTICATED,
            details: 'missing or wrong bearer token (metadata "authorization: Bearer <token>")',
          });
      }
      Promise.resolve()
        .then(() => handle(call.request, call))
        .then(
          (res) => callback(null, res),
          (e) => callback(grpcError(e)),
        );
    };
  }

  private async infer(r: InferRequestMessage, call: grpc.ServerUnaryCall<unknown, unknown>): Promise<unknown> {
    const header = call.metadata.get('x-request-id')[0];
    const headerId = typeof header === 'string' ? header : undefined;
    const x = this.backend.begin(r.model_name, r.model_version || undefined, 'infer');
    try {
      const { body, raw } = toInferBody(r);
      const request = parseInferRequest(body, x.v, raw);
      const outputs = await this.backend.execute(x, request, headerId);
      const names = request.outputs ?? x.v.outputs.map((m) => m.name);
      return {
        model_name: x.v.model,
        model_version: x.v.version,
        id: request.id ?? '',
        outputs: names.map((name) => ({
          name,
          datatype: x.v.outputs.find((m) => m.name === name)!.datatype,
          shape: [...outputs[name].dims],
        })),
        raw_output_contents: names.map((name) => elementsToRaw(outputs[name])),
      };
    } catch (e) {
      const err =
        e instanceof HttpError
          ? e
          : new HttpError(400, `the model could not run on this input: ${(e as Error).message ?? String(e)}`);
      x.status = err.status;
      throw err;
    } finally {
      x.v.release();
      this.backend.end(x, headerId);
    }
  }

  /** Listens on host:port (0: any free port); resolves with "host:port". */
  async listen(host: string, port: number): Promise<string> {
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const bound = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    widenFlowControl(this.server);
    this.url = host.includes(':') ? `[${host}]:${bound}` : `${host}:${bound}`;
    return this.url;
  }

  /** Refuses new calls, lets running ones finish (at most `graceMs`), then closes. */
  async close(graceMs = 10_000): Promise<void> {
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      force.unref();
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
