// The inference server: KServe Open Inference Protocol v2 over REST on node:http, plus the Triton
// repository and statistics extensions, ML Loop's alias endpoints, `/predict` and Prometheus `/metrics`.
// Every bad request is a 4xx with `{"error": "…"}`; nothing a client sends can throw past `handle`.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BatchingOptions } from './batcher';
import type { Outputs, WorkersOption } from './engine';
import { BadRequest, HttpError, NotFound } from './errors';
import {
  binaryInferResponse,
  inferResponse,
  parseInferRequest,
  parsePredictRequest,
  predictResponse,
  sequentialRawInputs,
  type InferRequest,
} from './infer';
import { decodeImages, parseImagePredict, tensorImages } from './images';
import type { Exchange } from './exchange';
import { GrpcInferenceServer } from './grpc';
import { decodeElements, RAW_ALIGNMENT } from './datatypes';
import type { LoggedImage } from '../requestLog/images';
import { ServerMetrics, type VersionSeries } from './metrics';
import type { ServedVersion } from './model';
import type { OrtThreadOptions } from '../onnx/session';
import { ALIASES, ModelRegistry, type Alias } from './registry';
import { RequestLog, type RequestLogOptions } from '../requestLog/log';
import { columnarRequest, FeedbackLog, parseFeedback } from './feedback';
import type * as ort from 'onnxruntime-node';

/** How a user turns request logging on, by who started the server. */
const NOT_LOGGING_FIX = {
  cli: 'start it with --log-requests',
  editor:
    'restart it with request logging: "Restart with Request Logging" in its Monitoring panel (ML Loop: Open Monitoring), or turn on the mlLoop.deploy.logRequests setting and deploy again',
} as const;

export interface ServerOptions {
  host?: string;
  port?: number;
  /** Who started the server: the reason of a refusal names what that user can do (a CLI flag, or the editor's command). */
  startedBy?: 'cli' | 'editor';
  /** When `port` is taken, listen on a free port instead of failing (the editor's deployments: `portFellBack` says so). */
  portFallback?: boolean;
  /** Bearer token every request must carry; required when `host` is not a loopback address. */
  token?: string;
  /** Request bodies larger than this get 413 (default 8 MiB); gRPC messages too (RESOURCE_EXHAUSTED). */
  maxBodyBytes?: number;
  /** Also serve the OIP gRPC service on this port of the same host (0: any free port); off when absent. */
  grpcPort?: number;
  /** A request must arrive completely within this (slow clients get 408), default 30 s. */
  requestTimeoutMs?: number;
  /** An inference must be answered within this once read (else 503 with an OIP error), default 10 s; 0: no limit. */
  inferTimeoutMs?: number;
  batching?: BatchingOptions;
  threads?: OrtThreadOptions;
  /** Inference worker threads per loaded version (0: the server's thread; default auto). */
  workers?: WorkersOption;
  /** Request logging (only with the user's consent). */
  requestLog?: RequestLogOptions;
  /** Name shown by `GET /v2` and used for the deployment folder. */
  name?: string;
  serverVersion?: string;
  processMetrics?: boolean;
}

export const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Per-version request counts kept for the Deployments view. */
interface VersionCounts {
  success: number;
  fail: number;
  successNs: number;
  failNs: number;
  queueNs: number;
}

export class InferenceServer {
  readonly metrics: ServerMetrics;
  readonly registry: ModelRegistry;
  readonly http: Server;
  readonly log: RequestLog | undefined;
  readonly feedback: FeedbackLog | undefined;
  readonly startedAt = Date.now();
  private readonly maxBodyBytes: number;
  private readonly inferTimeoutMs: number;
  private readonly tokenHash: Buffer | undefined;
  private readonly counts = new WeakMap<ServedVersion, VersionCounts>();
  private readonly versionMetrics = new WeakMap<ServedVersion, VersionSeries>();
  private inflight = 0;
  /** Records still storing their images (close waits for them). */
  private readonly logging = new Set<Promise<void>>();
  private draining = false;
  private drained: (() => void) | undefined;
  private requestSeq = 0;
  private readonly idPrefix = randomBytes(3).toString('hex');
  url = '';
  /** The gRPC service, when `grpcPort` asked for it (listening once listen() resolved). */
  grpc: GrpcInferenceServer | undefined;

  constructor(private readonly options: ServerOptions = {}) {
    const host = options.host ?? '127.0.0.1';
    if (!isLoopback(host) && !options.token)
      throw new Error(`binding ${host} (not loopback) needs a bearer token: pass --token-file FILE`);
    this.maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
    this.inferTimeoutMs = options.inferTimeoutMs ?? 10_000;
    this.tokenHash = options.token ? sha256(options.token) : undefined;
    this.metrics = new ServerMetrics(options.processMetrics ?? true);
    this.registry = new ModelRegistry({
      batching: options.batching,
      threads: options.threads,
      workers: options.workers,
      // Per run, not per request: a batch of 64 requests is one run.
      onRun: (v, rows, ms) => {
        const m = this.metricsOf(v);
        m.batchRows.observe(rows);
        m.compute.observe(ms / 1000);
      },
      onChange: () => this.updateLoadedGauge(),
    });
    this.log = options.requestLog ? new RequestLog(options.requestLog) : undefined;
    this.feedback = options.requestLog ? new FeedbackLog(options.requestLog.dir) : undefined;
    const timeout = options.requestTimeoutMs ?? 30_000;
    // Node checks request timeouts every connectionsCheckingInterval (30 s by default): check often enough to honour short ones.
    this.http = createServer(
      {
        keepAliveTimeout: 5000,
        requestTimeout: timeout,
        headersTimeout: Math.min(timeout, 20_000),
        connectionsCheckingInterval: Math.min(1000, timeout / 2),
      },
      (req, res) => this.onRequest(req, res),
    );
  }

  /** The port asked for, when it was taken and the server listens on a free one instead (portFallback). */
  portFellBack?: number;

  async listen(): Promise<string> {
    const host = this.options.host ?? '127.0.0.1';
    const listenOn = (port: number) =>
      new Promise<void>((resolve, reject) => {
        this.http.once('error', reject);
        this.http.listen(port, host, () => {
          this.http.off('error', reject);
          resolve();
        });
      });
    const wanted = this.options.port ?? 8000;
    try {
      await listenOn(wanted);
    } catch (e) {
      if (!this.options.portFallback || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
      this.portFellBack = wanted;
      await listenOn(0);
    }
    const port = (this.http.address() as AddressInfo).port;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (this.options.grpcPort !== undefined) {
      this.grpc = new GrpcInferenceServer(this, this.maxBodyBytes);
      try {
        await this.grpc.listen(host, this.options.grpcPort);
      } catch (e) {
        await new Promise<void>((resolve) => this.http.close(() => resolve()));
        throw new Error(`gRPC: could not listen on ${host}:${this.options.grpcPort}: ${(e as Error).message}`);
      }
    }
    return this.url;
  }

  /** Graceful stop: refuse new requests (503), let in-flight ones finish, then close everything. */
  async close(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    const grpcClosed = this.grpc?.close();
    this.http.closeIdleConnections();
    if (this.inflight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.http.closeAllConnections();
    await closed;
    await grpcClosed;
    await Promise.all(this.logging);
    this.log?.close();
    await this.registry.close();
  }

  private updateLoadedGauge(): void {
    this.metrics.loadedModels.reset();
    for (const [name, e] of this.registry.models) this.metrics.loadedModels.set({ model: name }, e.versions.size);
  }

  /** A version's metric series, found once per version (a request's metrics are then a few additions). */
  private metricsOf(v: ServedVersion): VersionSeries {
    let m = this.versionMetrics.get(v);
    if (!m) this.versionMetrics.set(v, (m = this.metrics.version(v.model, v.version)));
    return m;
  }

  private countsOf(v: ServedVersion): VersionCounts {
    let c = this.counts.get(v);
    if (!c) this.counts.set(v, (c = { success: 0, fail: 0, successNs: 0, failNs: 0, queueNs: 0 }));
    return c;
  }

  /** A response's 'close' listener (one function for all: a request allocates no closure for it). */
  private readonly responseClosed = (): void => {
    if (--this.inflight === 0 && this.drained) this.drained();
  };

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.draining) {
      res.shouldKeepAlive = false;
      sendJson(res, 503, { error: 'the server is shutting down' });
      req.resume();
      return;
    }
    this.inflight++;
    res.on('close', this.responseClosed);
    if (this.tokenHash && !this.authorized(req)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      sendJson(res, 401, { error: 'missing or wrong bearer token (Authorization: Bearer <token>)' });
      req.resume();
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBodyBytes) return this.tooLarge(req, res);
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (c: Buffer) => {
      if (aborted) return;
      size += c.length;
      if (size > this.maxBodyBytes) {
        aborted = true;
        this.tooLarge(req, res);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (aborted) return;
      const body =
        chunks.length === 1 ? chunks[0] : joinChunks(chunks, size, req.headers['inference-header-content-length']);
      this.handle(req, res, body).catch((e) => this.fail(res, e));
    });
    req.on('error', () => res.destroy());
  }

  private tooLarge(req: IncomingMessage, res: ServerResponse): void {
    res.shouldKeepAlive = false;
    sendJson(res, 413, { error: `the request body is larger than the limit of ${this.maxBodyBytes} bytes` });
    // Stop reading the rest: the connection closes after the reply.
    res.once('finish', () => req.destroy());
  }

  private authorized(req: IncomingMessage): boolean {
    return this.tokenMatches(req.headers.authorization);
  }

  /** Whether clients must send the bearer token (REST and gRPC alike). */
  get requiresToken(): boolean {
    return this.tokenHash !== undefined;
  }

  /** Whether an `Authorization` value ("Bearer <token>") carries the server's token. */
  tokenMatches(authorization: string | undefined): boolean {
    const h = authorization;
    if (typeof h !== 'string' || !h.startsWith('Bearer ') || !this.tokenHash) return false;
    return timingSafeEqual(sha256(h.slice(7).trim()), this.tokenHash);
  }

  /** Ready: not draining, and every model has a loaded production version. */
  isReady(): boolean {
    return (
      !this.draining &&
      [...this.registry.models.values()].every((e) => e.aliases.production && e.versions.has(e.aliases.production))
    );
  }

  private fail(res: ServerResponse, e: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (e instanceof HttpError) sendJson(res, e.status, { error: e.message });
    else sendJson(res, 500, { error: `internal error: ${(e as Error)?.message ?? String(e)}` });
  }

  private async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    const inference = inferencePath(path, req.method);
    if (inference) return this.infer(req, res, body, inference.name, undefined, inference.action);
    const parts = path.split('/').filter(Boolean);
    if (path.includes('%')) for (let i = 0; i < parts.length; i++) parts[i] = safeDecode(parts[i]);
    const method = req.method ?? 'GET';
    if (path === '/metrics' && method === 'GET') {
      res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType });
      res.end(await this.metrics.registry.metrics());
      return;
    }
    if (parts[0] !== 'v2')
      throw new NotFound(`no endpoint ${method} ${path}; the API is under /v2 (OIP v2) and /metrics`);
    const rest = parts.slice(1);
    // /v2
    if (rest.length === 0 && method === 'GET') return sendJson(res, 200, this.serverMetadata());
    if (rest[0] === 'health' && rest.length === 2 && method === 'GET') {
      if (rest[1] === 'live') return sendJson(res, 200, { live: true });
      if (rest[1] === 'ready') {
        const ready = this.isReady();
        return sendJson(res, ready ? 200 : 503, { ready });
      }
    }
    if (rest[0] === 'repository') return this.repository(method, rest.slice(1), body, res);
    if (rest[0] === 'mlloop' && rest[1] === 'status' && method === 'GET') return sendJson(res, 200, this.status());
    if (rest[0] === 'models') {
      if (rest.length === 2 && rest[1] === 'stats' && method === 'GET') return sendJson(res, 200, this.stats());
      const name = rest[1];
      if (!name) throw new NotFound('a model name is needed: /v2/models/{name}');
      let tail = rest.slice(2);
      let version: string | undefined;
      if (tail[0] === 'versions') {
        version = tail[1];
        if (!version) throw new NotFound('a version is needed: /v2/models/{name}/versions/{version}');
        tail = tail.slice(2);
      }
      const action = tail[0];
      if (tail.length === 0 && method === 'GET') return sendJson(res, 200, this.modelMetadata(name, version));
      if (tail.length === 1 && action === 'ready' && method === 'GET') {
        const v = this.registry.resolve(name, version);
        return sendJson(res, 200, { name, version: v.version, ready: true });
      }
      if (tail.length === 1 && action === 'stats' && method === 'GET')
        return sendJson(res, 200, this.stats(name, version));
      if (tail.length === 1 && (action === 'infer' || action === 'predict') && method === 'POST')
        return this.infer(req, res, body, name, version, action);
      if (version === undefined && tail.length === 1 && action === 'feedback' && method === 'POST')
        return this.storeFeedback(res, body, name);
      if (version === undefined && action === 'aliases' && tail.length === 1 && method === 'GET')
        return sendJson(res, 200, this.aliases(name));
      if (version === undefined && action === 'aliases' && tail.length === 2 && method === 'POST') {
        const alias = tail[1];
        if (!ALIASES.includes(alias as Alias))
          throw new NotFound(`unknown alias "${alias}"; aliases: ${ALIASES.join(', ')}`);
        const b = parseJson(body) as { version?: unknown } | null;
        const target = b && typeof b === 'object' ? b.version : undefined;
        if (typeof target !== 'string' && typeof target !== 'number')
          throw new BadRequest('the body must be {"version": "<version>"}');
        await this.registry.setAlias(name, alias as Alias, String(target));
        return sendJson(res, 200, this.aliases(name));
      }
      if (version === undefined && action === 'rollback' && tail.length === 1 && method === 'POST') {
        await this.registry.rollback(name);
        return sendJson(res, 200, this.aliases(name));
      }
    }
    throw new NotFound(`no endpoint ${method} ${path}`);
  }

  private async infer(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    name: string,
    version: string | undefined,
    action: 'infer' | 'predict',
  ): Promise<void> {
    const x = this.begin(name, version, action);
    const v = x.v;
    try {
      let request: InferRequest;
      let single = false;
      const headerLength = req.headers['inference-header-content-length'];
      if (action === 'predict' && v.image) {
        // An image model's /predict: a raw image body or base64 instances (./images.ts).
        const p = parseImagePredict(v, body, req.headers['content-type']);
        single = x.rawImageBody = p.single;
        request = { feeds: {}, rows: p.files.length, imageFiles: p.files, timeoutUs: p.timeoutUs };
      } else if (action === 'infer' && headerLength !== undefined) {
        // The binary data extension: a JSON header of that length, then the inputs' raw bytes.
        const n = Number(headerLength);
        if (!Number.isSafeInteger(n) || n <= 0 || n > body.length)
          throw new BadRequest(
            `Inference-Header-Content-Length must be the length of the JSON header (1-${body.length} bytes), got ${JSON.stringify(headerLength)}`,
          );
        x.parsed = parseJson(body.subarray(0, n));
        request = parseInferRequest(x.parsed, v, sequentialRawInputs(body.subarray(n)));
      } else {
        x.parsed = parseJson(body);
        request =
          action === 'infer'
            ? parseInferRequest(x.parsed, v)
            : { ...parsePredictRequest(x.parsed, v), id: undefined, outputs: undefined };
      }
      const outputs = await this.execute(x, request, req.headers['x-request-id']);
      if (x.logId) res.setHeader('X-Request-Id', x.logId);
      if (action === 'predict') {
        const out = predictResponse(v, outputs);
        x.loggedOutputs = out.predictions;
        const predictions = out.predictions as unknown[];
        // A raw image body gets its one prediction, not a list of one.
        sendJson(
          res,
          200,
          single ? { model_name: v.model, model_version: v.version, ...(predictions[0] as object) } : out,
        );
      } else if (request.binaryOutputs) {
        const { json, chunks } = binaryInferResponse(v, outputs, request.id, request.outputs, request.binaryOutputs);
        sendBinary(res, json, chunks);
      } else {
        const out = inferResponse(v, outputs, request.id, request.outputs);
        x.response = out;
        sendJson(res, 200, out);
      }
    } catch (e) {
      if (!(e instanceof HttpError))
        e = new HttpError(400, `the model could not run on this input: ${(e as Error).message ?? String(e)}`);
      x.status = (e as HttpError).status;
      this.fail(res, e);
    } finally {
      v.release();
    }
    this.end(x, req.headers['x-request-id']);
  }

  /** Starts one inference exchange (REST or gRPC): resolves the version and holds it until `end`. */
  begin(name: string, version: string | undefined, action: 'infer' | 'predict'): Exchange {
    const t0 = performance.now();
    const v = this.registry.resolve(name, version);
    v.acquire();
    return { v, t0, action, status: 200, queueMs: 0, rows: 0 };
  }

  /**
   * Runs a parsed request: decodes its images (if it sent files), runs it through the version's
   * batcher, names it for the log. Throws an HttpError for what the client sent wrong.
   */
  async execute(x: Exchange, request: InferRequest, headerId: string | string[] | undefined): Promise<Outputs> {
    const v = x.v;
    if (request.imageFiles) {
      const decoded = await decodeImages(v, request.imageFiles, (k) =>
        x.action === 'infer'
          ? `input "${v.image!.input}" element ${k}`
          : x.rawImageBody
            ? 'the body'
            : `instances[${k}]`,
      );
      request.feeds[v.image!.input] = decoded.tensor;
      x.images = decoded.images;
    }
    x.request = request;
    const r = await this.registry.batcher(v).run(request.feeds, request.rows, this.timeoutMs(request.timeoutUs));
    x.queueMs = r.queueMs;
    x.feeds = request.feeds;
    x.rows = request.rows;
    x.outputs = r.outputs;
    // With logging on, the response names the logged id, which feedback refers to.
    if (this.log) x.logId = requestId(request.id, headerId) ?? `${this.idPrefix}-${++this.requestSeq}`;
    // (inference time is observed once per batch run, by the batcher's onRun)
    this.metricsOf(v).queue.observe(r.queueMs / 1000);
    return r.outputs;
  }

  /** Counts a finished exchange in the metrics and statistics and, when logging is on, logs it. */
  end(x: Exchange, headerId: string | string[] | undefined): void {
    const v = x.v;
    const status = x.status;
    const ms = performance.now() - x.t0;
    const m = this.metricsOf(v);
    if (status === 200) m.ok++;
    else this.metrics.requests.inc({ model: v.model, version: v.version, status: String(status) });
    m.total.observe(ms / 1000);
    const c = this.countsOf(v);
    if (status === 200) {
      c.success++;
      c.successNs += ms * 1e6;
    } else {
      c.fail++;
      c.failNs += ms * 1e6;
    }
    c.queueNs += x.queueMs * 1e6;
    if (!this.log || !this.log.sampled()) return;
    const log = this.log;
    const reqId = x.logId ?? requestId(x.request?.id, headerId) ?? `${this.idPrefix}-${++this.requestSeq}`;
    const now = Date.now();
    const latency = Math.round(ms * 1000) / 1000;
    const imageInput = v.image?.input;
    const append = (images?: LoggedImage[]) =>
      log.append(
        {
          time: new Date(now).toISOString(),
          id: reqId,
          model: v.model,
          version: v.version,
          status,
          inputs: loggedInputs(x, imageInput),
          outputs: x.loggedOutputs ?? loggedOutputs(x),
          latency_ms: latency,
          ...(v.source.runId ? { run: v.source.runId } : {}),
          ...(images ? { images } : {}),
        },
        columnarRequest(v, { time: now, id: reqId, status, latencyMs: latency }, x.feeds, x.outputs, x.rows),
      );
    if (!imageInput || status !== 200 || !log.keepsImages) return append();
    // An image request keeps its pictures beside the log (../requestLog/images.ts); the response is already sent.
    const feed = x.feeds?.[imageInput];
    const storing = (async () => {
      const sent = x.images ?? (feed ? await tensorImages(v, feed) : []);
      return Promise.all(sent.map((i) => log.storeImage(i.bytes, i.info, i.fromTensor)));
    })().then(append, () => append());
    this.logging.add(storing);
    void storing.finally(() => this.logging.delete(storing));
  }

  /** The time an inference has: the server's inference timeout, or the request's own `parameters.timeout` if shorter. */
  private timeoutMs(timeoutUs: number | undefined): number {
    const server = this.inferTimeoutMs > 0 ? this.inferTimeoutMs : Infinity;
    return timeoutUs === undefined ? server : Math.min(server, timeoutUs / 1000);
  }

  /** `POST /v2/models/{name}/feedback`: true labels for logged requests (src/core/serve/feedback.ts). */
  private storeFeedback(res: ServerResponse, body: Buffer, name: string): void {
    const e = this.registry.entry(name);
    if (!this.feedback)
      throw new HttpError(
        409,
        `request logging is off on this server: feedback is joined to logged requests, so ${NOT_LOGGING_FIX[this.options.startedBy ?? 'cli']}`,
      );
    const items = parseFeedback(
      parseJson(body),
      e.aliases.production ? e.versions.get(e.aliases.production) : undefined,
    );
    sendJson(res, 200, { accepted: this.feedback.append(items) });
  }

  private async repository(method: string, rest: string[], body: Buffer, res: ServerResponse): Promise<void> {
    if (method !== 'POST') throw new NotFound(`the repository extension takes POST, not ${method}`);
    if (rest.length === 1 && rest[0] === 'index') {
      const index = [...this.registry.models.values()].flatMap((e) =>
        [...e.sources.keys()].map((version) => ({
          name: e.name,
          version,
          state: e.versions.has(version) ? 'READY' : 'UNAVAILABLE',
          reason: e.versions.has(version) ? '' : 'unloaded',
        })),
      );
      return sendJson(res, 200, index);
    }
    if (rest.length === 3 && rest[0] === 'models' && (rest[2] === 'load' || rest[2] === 'unload')) {
      const name = rest[1];
      const b = body.length ? (parseJson(body) as { parameters?: Record<string, unknown> } | null) : null;
      const params = (b && typeof b === 'object' && b.parameters) || {};
      const version = params.version === undefined ? undefined : String(params.version);
      if (rest[2] === 'unload') {
        await this.registry.unload(name, version);
        return sendJson(res, 200, {});
      }
      if (typeof params.path === 'string') {
        // ML Loop's extension: add a version from a model file (a deployed run); `alias` may name candidate or production.
        const alias = params.alias === undefined ? 'candidate' : String(params.alias);
        if (!ALIASES.includes(alias as Alias))
          throw new BadRequest(`parameters.alias must be one of ${ALIASES.join(', ')}`);
        let added: ServedVersion;
        try {
          added = await this.registry.addVersion(
            name,
            { path: params.path, runId: typeof params.run_id === 'string' ? params.run_id : undefined },
            { version, alias: alias as Alias },
          );
        } catch (e) {
          if (e instanceof HttpError) throw e;
          throw new BadRequest(`could not load ${params.path}: ${(e as Error).message}`);
        }
        return sendJson(res, 200, { name, version: added.version, aliases: this.aliases(name) });
      }
      const e = this.registry.entry(name);
      const versions = version ? [version] : [...e.sources.keys()];
      for (const ver of versions) await this.registry.load(name, ver);
      return sendJson(res, 200, {});
    }
    throw new NotFound(`no repository endpoint /v2/repository/${rest.join('/')}`);
  }

  serverMetadata(): Record<string, unknown> {
    return {
      name: this.options.name ?? 'ml-loop',
      version: this.options.serverVersion ?? '0.1.0',
      extensions: ['model_repository', 'statistics', 'binary_tensor_data', 'mlloop_aliases', 'mlloop_predict'],
    };
  }

  modelMetadata(name: string, version?: string): Record<string, unknown> {
    const v = this.registry.resolve(name, version);
    const e = this.registry.entry(name);
    return {
      name,
      versions: [...e.versions.keys()],
      platform: 'onnxruntime_onnx',
      inputs: v.inputs,
      outputs: v.outputs,
      parameters: {
        version: v.version,
        aliases: e.aliases,
        ...(v.source.runId ? { run_id: v.source.runId } : {}),
        ...(v.contract
          ? {
              features: v.contract.features,
              categories: v.contract.categories,
              classes: v.contract.classes,
              task: v.contract.task,
            }
          : {}),
      },
    };
  }

  aliases(name: string): Record<string, unknown> {
    const e = this.registry.entry(name);
    return {
      name,
      production: e.aliases.production ?? null,
      candidate: e.aliases.candidate ?? null,
      previous_production: e.productionHistory[e.productionHistory.length - 1] ?? null,
    };
  }

  /** Triton's statistics extension shape (`model_stats`), durations in ns. */
  stats(name?: string, version?: string): Record<string, unknown> {
    const entries = name ? [this.registry.entry(name)] : [...this.registry.models.values()];
    const model_stats = entries.flatMap((e) =>
      [...e.versions.values()]
        .filter((v) => version === undefined || v.version === version)
        .map((v) => {
          const s = this.registry.batcher(v).stats;
          const c = this.countsOf(v);
          return {
            name: e.name,
            version: v.version,
            last_inference: s.lastInference,
            inference_count: s.inferenceCount,
            execution_count: s.executionCount,
            inference_stats: {
              success: { count: c.success, ns: Math.round(c.successNs) },
              fail: { count: c.fail, ns: Math.round(c.failNs) },
              queue: { count: c.success + c.fail, ns: Math.round(c.queueNs) },
              compute_infer: s.computeInfer,
            },
            batch_stats: [...s.batches.entries()]
              .sort((a, b) => a[0] - b[0])
              .map(([batch_size, x]) => ({ batch_size, compute_infer: x })),
          };
        }),
    );
    if (version !== undefined && model_stats.length === 0)
      throw new NotFound(`model "${name}" has no loaded version ${version}`);
    return { model_stats };
  }

  /** What the Deployments view shows: models → versions with alias, run and request count. */
  status(): Record<string, unknown> {
    return {
      name: this.options.name ?? 'ml-loop',
      url: this.url,
      pid: process.pid,
      startedAt: new Date(this.startedAt).toISOString(),
      logging: this.log ? { dir: this.options.requestLog!.dir, sampleRate: this.log.sampleRate } : null,
      models: [...this.registry.models.values()].map((e) => ({
        name: e.name,
        aliases: { production: e.aliases.production ?? null, candidate: e.aliases.candidate ?? null },
        previousProduction: e.productionHistory[e.productionHistory.length - 1] ?? null,
        versions: [...e.sources.entries()].map(([version, src]) => {
          const v = e.versions.get(version);
          const c = v ? this.countsOf(v) : undefined;
          const runs = v
            ? { workers: v.engine.workers, running: this.registry.batcher(v).running }
            : { workers: 0, running: 0 };
          return {
            version,
            loaded: !!v,
            path: src.path,
            runId: v?.source.runId ?? src.runId ?? null,
            requests: c ? c.success + c.fail : 0,
            failed: c?.fail ?? 0,
            ...runs,
          };
        }),
      })),
    };
  }
}

const MODELS_PREFIX = '/v2/models/';

/**
 * `POST /v2/models/{name}/infer|predict` (the hot path) recognised without splitting the path; any
 * other path (versions, escapes, other endpoints) goes through the full routing of `handle`.
 */
function inferencePath(
  path: string,
  method: string | undefined,
): { name: string; action: 'infer' | 'predict' } | undefined {
  if (method !== 'POST' || !path.startsWith(MODELS_PREFIX) || path.includes('%')) return undefined;
  const slash = path.indexOf('/', MODELS_PREFIX.length);
  if (slash <= MODELS_PREFIX.length) return undefined;
  const action = path.slice(slash + 1);
  if (action !== 'infer' && action !== 'predict') return undefined;
  return { name: path.slice(MODELS_PREFIX.length, slash), action };
}

function requestId(bodyId: string | undefined, header: string | string[] | undefined): string | undefined {
  return bodyId ?? (typeof header === 'string' ? header : undefined);
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw new BadRequest('the request body is empty; expected JSON');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new BadRequest(`the request body is not valid JSON: ${(e as Error).message}`);
  }
}

/** The inputs a record logs: as the JSON request sent them, else (binary data, gRPC) from the tensors; never the image input. */
function loggedInputs(x: Exchange, imageInput: string | undefined): unknown {
  const p = x.parsed as Record<string, unknown> | undefined;
  if (x.action === 'predict') return p && typeof p === 'object' && !x.v.image ? p.instances : undefined;
  const sent = p && typeof p === 'object' && Array.isArray(p.inputs) ? p.inputs : undefined;
  if (!sent && !x.feeds) return undefined;
  const out: Record<string, unknown> = {};
  for (const t of sent ?? [])
    if (t && typeof t === 'object' && typeof (t as { name?: unknown }).name === 'string')
      out[(t as { name: string }).name] = (t as { data?: unknown }).data;
  // Binary data and gRPC send no JSON data: the tensors are logged.
  for (const [name, t] of Object.entries(x.feeds ?? {})) if (out[name] === undefined) out[name] = decodeElements(t);
  if (imageInput) delete out[imageInput];
  return out;
}

/** Outputs as logged: by name, their elements as a flat list (the selected ones, or all); from the JSON response when there is one. */
function loggedOutputs(x: Exchange): Record<string, unknown> | undefined {
  const sent = x.response?.outputs as Array<{ name: string; data: unknown }> | undefined;
  if (sent) return Object.fromEntries(sent.map((o) => [o.name, o.data]));
  const outputs = x.outputs;
  if (!outputs) return undefined;
  return Object.fromEntries((x.request?.outputs ?? Object.keys(outputs)).map((n) => [n, decodeElements(outputs[n])]));
}

/**
 * A request body read in several chunks, in one buffer. With the binary data extension the raw bytes
 * after the JSON header are placed at an address aligned for any element type, so the inputs can be
 * taken as typed arrays without another copy (rawToElements).
 */
function joinChunks(chunks: Buffer[], size: number, headerLength: string | string[] | undefined): Buffer {
  const n = typeof headerLength === 'string' ? Number(headerLength) : NaN;
  const pad = Number.isSafeInteger(n) && n > 0 ? (RAW_ALIGNMENT - (n % RAW_ALIGNMENT)) % RAW_ALIGNMENT : 0;
  // allocUnsafeSlow: its own ArrayBuffer (not a slice of the shared pool), so its start is aligned.
  const body = Buffer.allocUnsafeSlow(pad + size).subarray(pad);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return body;
}

/** A response of the binary data extension: the JSON header, then the binary outputs' bytes, in one write. */
function sendBinary(res: ServerResponse, json: Record<string, unknown>, chunks: Buffer[]): void {
  const header = Buffer.from(JSON.stringify(json));
  let length = header.length;
  for (const c of chunks) length += c.length;
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Inference-Header-Content-Length': header.length,
    'Content-Length': length,
  });
  // Corked, the header and the outputs' bytes go out in one writev (no copy into one buffer first).
  res.cork();
  res.write(header);
  for (const c of chunks) res.write(c);
  res.end();
  res.uncork();
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
