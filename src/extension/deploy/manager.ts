// The servers this window started: one per project and model name. Deploying a run whose model name
// already has a server adds a version to it (candidate; the first is production); otherwise a new
// server process starts. All servers are disposables: deactivation stops them, no orphans.
import * as vscode from 'vscode';
import { ServerProcess } from './serverProcess';

export interface DeployRequest {
  projectDir: string;
  runId: string;
  modelPath: string;
  name: string;
  logRequests: boolean;
  /** Port of a new server (mlLoop.deploy.port): a free one when it is taken; 0 any free port. */
  port?: number;
  /** Port of the gRPC service beside REST (mlLoop.deploy.grpcPort); none when undefined. */
  grpcPort?: number;
  sampleRate?: number;
  redact?: string[];
}

export class DeploymentManager implements vscode.Disposable {
  readonly servers: ServerProcess[] = [];
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changeEmitter.event;
  /** A logging deployment's request rate as its Monitoring report has it (set by the deployment monitor): the status bar shows the same number as the Throughput chart. */
  rateOf: ((projectDir: string, name: string) => number | undefined) | undefined;
  private readonly ratesEmitter = new vscode.EventEmitter<void>();
  /** A new monitoring report may have changed rateOf's answers. */
  readonly onDidChangeRates = this.ratesEmitter.event;

  ratesChanged(): void {
    this.ratesEmitter.fire();
  }

  constructor(
    private readonly serverJs: string,
    private readonly nodePath: () => string,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  running(): ServerProcess[] {
    return this.servers.filter((s) => s.state !== 'stopped');
  }

  find(projectDir: string, name: string): ServerProcess | undefined {
    return this.running().find(
      (s) => s.launch.projectDir === projectDir && s.status?.models.some((m) => m.name === name),
    );
  }

  /** Deploys a run: a new version of `name` on its running server, or a new server. Returns the server and version. */
  async deploy(r: DeployRequest): Promise<{ server: ServerProcess; version: string; added: boolean }> {
    const existing = this.find(r.projectDir, r.name);
    if (existing) {
      const res = await existing.post(`/v2/repository/models/${encodeURIComponent(r.name)}/load`, {
        parameters: { path: r.modelPath, run_id: r.runId },
      });
      this.log.info(`deployed run ${r.runId} as ${r.name} version ${String(res.version)} on ${existing.url}`);
      return { server: existing, version: String(res.version), added: true };
    }
    const args = [
      '--model',
      r.modelPath,
      '--name',
      r.name,
      '--project',
      r.projectDir,
      '--port',
      String(r.port ?? 0),
      '--port-fallback',
    ];
    if (r.grpcPort !== undefined) args.push('--grpc-port', String(r.grpcPort));
    if (r.logRequests) {
      args.push('--log-requests');
      if (r.sampleRate !== undefined && r.sampleRate < 1) args.push('--log-sample-rate', String(r.sampleRate));
      if (r.redact?.length) args.push('--log-redact', r.redact.join(','));
    }
    const server = new ServerProcess(
      { nodePath: this.nodePath(), serverJs: this.serverJs, projectDir: r.projectDir, args },
      () => this.changeEmitter.fire(),
      (l) => this.log.info(l),
    );
    this.servers.push(server);
    this.changeEmitter.fire();
    try {
      await server.ready();
    } catch (e) {
      this.servers.splice(this.servers.indexOf(server), 1);
      this.changeEmitter.fire();
      throw e;
    }
    this.log.info(
      `inference server for ${r.name} (run ${r.runId}) listening on ${server.url}${server.grpcUrl ? `, gRPC on ${server.grpcUrl}` : ''}, pid ${server.pid}${r.logRequests ? `, logging requests to ${server.logDir}` : ''}`,
    );
    return { server, version: '1', added: false };
  }

  async stop(server: ServerProcess): Promise<void> {
    await server.stop();
    this.servers.splice(this.servers.indexOf(server), 1);
    this.changeEmitter.fire();
  }

  dispose(): void {
    for (const s of this.servers) s.dispose();
    this.changeEmitter.dispose();
    this.ratesEmitter.dispose();
  }
}

/** What logging stores, named before the user agrees to it. */
export function consentMessage(name: string, dir: string, sampleRate: number, redact: string[]): string {
  return (
    `Log the requests of deployment "${name}"? Each logged request stores its time, request id, model name and version, ` +
    `the inputs (every feature value sent), the outputs (predicted label and class probabilities) and the latency, ` +
    `as JSON Lines in ${dir} (rotated at 16 MiB, at most 256 MiB kept). ` +
    `${sampleRate < 1 ? `Only ${Math.round(sampleRate * 100)} % of requests are logged. ` : ''}` +
    `${redact.length ? `Redacted: ${redact.join(', ')}. ` : ''}Nothing leaves this machine.`
  );
}
