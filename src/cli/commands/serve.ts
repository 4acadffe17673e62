// ml-loop serve --model PATH_OR_RUN_ID [--model-repository DIR] …: the local inference server (OIP v2).
// Prints its URL (with --json, one JSON line `{"event":"listening",…}` the extension reads) and runs
// until Ctrl-C or SIGTERM, which drain in-flight requests before exiting.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_BATCHING } from '../../core/serve/batcher';
import { AUTO_POOL_MIN_RUN_MS, type WorkersOption } from '../../core/serve/engine';
import { RepositoryWatcher } from '../../core/serve/repository';
import { InferenceServer, isLoopback } from '../../core/serve/server';
import { resolveModel, sanitizeName } from '../../core/serve/source';
import { EXIT_OK, UsageError, type CliCommand, type CliIO } from '../command';
import { parseCommandArgs } from '../options';
import { deploymentDir } from '../../core/spec/layout';

export const SERVE_OPTIONS = {
  model: { type: 'string', multiple: true, short: 'm' },
  name: { type: 'string' },
  port: { type: 'string', short: 'p' },
  'grpc-port': { type: 'string' },
  'port-fallback': { type: 'boolean' },
  host: { type: 'string' },
  project: { type: 'string' },
  'model-repository': { type: 'string' },
  'poll-ms': { type: 'string' },
  'token-file': { type: 'string' },
  'log-requests': { type: 'boolean' },
  'log-sample-rate': { type: 'string' },
  'log-redact': { type: 'string' },
  'log-max-file-bytes': { type: 'string' },
  'log-max-total-bytes': { type: 'string' },
  'log-max-image-bytes': { type: 'string' },
  'max-batch-size': { type: 'string' },
  'max-queue-delay-us': { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'infer-timeout-ms': { type: 'string' },
  workers: { type: 'string' },
  'intra-op-threads': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const SERVE_USAGE = `ml-loop serve --model PATH_OR_RUN_ID [--name NAME] [--port 8000] [--host 127.0.0.1]
               [--log-requests] [--token-file F] [--model-repository DIR] [options]

Serves ONNX models over the KServe Open Inference Protocol v2 (REST) until Ctrl-C or SIGTERM (which
finish in-flight requests first). Endpoints: /v2, /v2/health/{live,ready}, /v2/models/{name}[/versions/{v}]
[/ready|/infer|/predict|/stats], /v2/repository/{index,models/{name}/load,unload},
/v2/models/{name}/aliases[/{production|candidate}], /v2/models/{name}/rollback, /metrics, and with
--log-requests /v2/models/{name}/feedback ({"id": "<request id>", "label": …}; see ml-loop drift).
/infer also takes Triton's binary data extension (Inference-Header-Content-Length: JSON header, then raw
tensors; "binary_data": true on an output returns it raw). Image models (image preprocessing in their ONNX
metadata) take pictures: /predict with an image/png|jpeg|webp body, or {"instances": [{"image": {"b64": …}}]};
/infer with the FP32 image tensor or a BYTES tensor of encoded image files.

  -m, --model PATH_OR_RUN_ID  an .onnx file, or a run id of the project (repeat to add versions: the first
                              is production, the others candidates)
  --name NAME                 model name (default: the project's name in mlloop.json, else the file's name)
  --project DIR               project folder for run ids and .mlloop/deployments (default: current folder)
  --model-repository DIR      serve DIR/<name>/<version>/model.onnx, polling for new versions
  --poll-ms N                 repository poll interval (default 2000; 0: load once)
  -p, --port N                default 8000 (0: any free port)
  --grpc-port N               also serve the OIP gRPC service (inference.GRPCInferenceService of KServe's
                              grpc_predict_v2.proto) on port N of the same host, same token (0: any free port)
  --port-fallback             when the port is taken, listen on a free one (said on the listening line)
  --host ADDR                 default 127.0.0.1; any other address needs --token-file
  --token-file F              clients must send "Authorization: Bearer <contents of F>"
  --log-requests              log inputs, outputs and latency to .mlloop/deployments/<name>/ (JSON Lines)
  --log-sample-rate R         log this fraction of requests (0-1, default 1)
  --log-redact K1,K2          replace these fields/inputs/features by "[redacted]" in the log
  --log-max-file-bytes N      rotate past N bytes (default 16 MiB)
  --log-max-total-bytes N     keep at most N bytes of logs (default 256 MiB), logged images included
  --log-max-image-bytes N     image models: keep sent images past N bytes as thumbnails (default 256 KiB)
  --max-batch-size N          rows per session.run when batching (default ${DEFAULT_BATCHING.maxBatchSize}; 1 turns batching off)
  --max-queue-delay-us N      how long a request may wait for a batch (default ${DEFAULT_BATCHING.maxQueueDelayUs}: one event-loop turn)
  --max-body-bytes N          larger request bodies get 413 (default 8388608)
  --timeout-ms N              a request must arrive within N ms (default 30000)
  --infer-timeout-ms N        an inference not answered within N ms gets 503 (default 10000; 0: no limit);
                              a request may ask for less with "parameters": {"timeout": <µs>}
  --workers N|auto            inference worker threads per model version (0: the server's thread; default
                              auto: for models whose single-row run takes ${AUTO_POOL_MIN_RUN_MS} ms or more, a
                              pool of one per core but one, at most 4)
  --intra-op-threads N        ONNX Runtime intra-op threads per session (default 1)
  --json                      print {"event":"listening","url":…} as one JSON line`;

function intOption(v: string | undefined, name: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${name} must be a whole number ≥ ${min}, not "${v}"`);
  return n;
}

function workersOption(v: string | undefined): WorkersOption {
  if (v === undefined || v === 'auto') return 'auto';
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new UsageError(`--workers must be auto or a whole number ≥ 0 (0: the server's own thread), not "${v}"`);
  return n;
}

/** Builds and starts the server from parsed options; resolves once it listens. */
export async function startServe(
  args: string[],
  io: CliIO,
): Promise<{ server: InferenceServer; watcher?: RepositoryWatcher; name: string }> {
  const { values } = parseCommandArgs(args, SERVE_OPTIONS);
  const project = resolve(io.cwd, values.project ?? '.');
  const models = values.model ?? [];
  const repo = values['model-repository'];
  if (models.length === 0 && !repo) throw new UsageError('Give --model PATH_OR_RUN_ID or --model-repository DIR');
  const resolved = models.map((m) => {
    try {
      return resolveModel(m, project);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
  const name = sanitizeName(values.name ?? resolved[0]?.defaultName ?? 'repository');
  const host = values.host ?? '127.0.0.1';
  const token = values['token-file'] ? readFileSync(resolve(io.cwd, values['token-file']), 'utf8').trim() : undefined;
  if (values['token-file'] && !token) throw new UsageError(`--token-file ${values['token-file']} is empty`);
  if (!isLoopback(host) && !token)
    throw new UsageError(
      `binding ${host} exposes the server beyond this machine: pass --token-file FILE with a bearer token`,
    );
  const sample = values['log-sample-rate'] === undefined ? undefined : Number(values['log-sample-rate']);
  if (sample !== undefined && !(sample >= 0 && sample <= 1))
    throw new UsageError('--log-sample-rate must be between 0 and 1');
  const server = new InferenceServer({
    host,
    port: intOption(values.port, 'port') ?? 8000,
    grpcPort: intOption(values['grpc-port'], 'grpc-port'),
    portFallback: values['port-fallback'] === true,
    // The editor sets MLLOOP_SERVER_CLIENT=vscode (src/extension/deploy/serverProcess).
    startedBy: process.env.MLLOOP_SERVER_CLIENT === 'vscode' ? 'editor' : 'cli',
    token,
    name,
    maxBodyBytes: intOption(values['max-body-bytes'], 'max-body-bytes', 1),
    requestTimeoutMs: intOption(values['timeout-ms'], 'timeout-ms', 1),
    inferTimeoutMs: intOption(values['infer-timeout-ms'], 'infer-timeout-ms'),
    workers: workersOption(values.workers),
    batching: {
      maxBatchSize: intOption(values['max-batch-size'], 'max-batch-size', 1) ?? DEFAULT_BATCHING.maxBatchSize,
      maxQueueDelayUs:
        intOption(values['max-queue-delay-us'], 'max-queue-delay-us') ?? DEFAULT_BATCHING.maxQueueDelayUs,
    },
    threads: { intraOpNumThreads: intOption(values['intra-op-threads'], 'intra-op-threads', 1) },
    requestLog: values['log-requests']
      ? {
          dir: deploymentDir(project, name),
          sampleRate: sample,
          redact: values['log-redact']
            ?.split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          maxFileBytes: intOption(values['log-max-file-bytes'], 'log-max-file-bytes', 1),
          maxTotalBytes: intOption(values['log-max-total-bytes'], 'log-max-total-bytes', 1),
          maxImageBytes: intOption(values['log-max-image-bytes'], 'log-max-image-bytes', 1),
        }
      : undefined,
  });
  for (const [i, r] of resolved.entries())
    await server.registry.addVersion(
      name,
      { path: r.path, runId: r.runId },
      { alias: i === 0 ? 'production' : 'candidate' },
    );
  let watcher: RepositoryWatcher | undefined;
  if (repo) {
    watcher = new RepositoryWatcher(resolve(io.cwd, repo), server.registry, (m) => io.err(`model repository: ${m}`));
    await watcher.start(intOption(values['poll-ms'], 'poll-ms') ?? 2000);
  }
  const url = await server.listen();
  const fellBack = server.portFellBack !== undefined ? { portTaken: server.portFellBack } : {};
  if (values.json)
    io.out(
      JSON.stringify({
        event: 'listening',
        url,
        name,
        pid: process.pid,
        logDir: server.log ? deploymentDir(project, name) : null,
        ...(server.grpc ? { grpc: server.grpc.url } : {}),
        ...fellBack,
      }),
    );
  else {
    if (server.portFellBack !== undefined)
      io.out(`ml-loop serve: port ${server.portFellBack} is taken; using a free port instead`);
    io.out(`ml-loop serve: listening on ${url}`);
    if (server.grpc) io.out(`ml-loop serve: gRPC (inference.GRPCInferenceService) on ${server.grpc.url}`);
    for (const [model, e] of server.registry.models)
      io.out(
        `  ${url}/v2/models/${model}  (versions ${[...e.sources.keys()].join(', ')}; production ${e.aliases.production ?? '-'})`,
      );
    if (server.log) io.out(`  logging requests to ${deploymentDir(project, name)}`);
  }
  return { server, watcher, name };
}

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Serve a run or an .onnx model over the Open Inference Protocol v2 (REST)',
  usage: SERVE_USAGE,
  async run(args, io) {
    const { server, watcher } = await startServe(args, io);
    await new Promise<void>((done) => {
      const stop = () => done();
      process.once('SIGTERM', stop);
      io.signal?.addEventListener('abort', stop, { once: true });
    });
    io.err('ml-loop serve: draining in-flight requests…');
    watcher?.stop();
    await server.close();
    io.err('ml-loop serve: stopped');
    return EXIT_OK;
  },
};
