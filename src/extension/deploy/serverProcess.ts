// One inference server started by the extension: dist/server.js as a child process (never in the
// extension host), its URL from the `{"event":"listening"}` line, its status polled from
// /v2/mlloop/status for the Deployments view and the status bar. Disposing it stops the process:
// SIGTERM (drain), then SIGKILL if it has not exited after 3 s. The child also stops by itself when
// its stdin pipe closes, so a crashed extension host leaves no orphan.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ServerStatusVersion {
  version: string;
  loaded: boolean;
  path: string;
  runId: string | null;
  requests: number;
  failed: number;
}

export interface ServerStatusModel {
  name: string;
  aliases: { production: string | null; candidate: string | null };
  previousProduction: string | null;
  versions: ServerStatusVersion[];
}

export interface ServerStatus {
  name: string;
  url: string;
  pid: number;
  startedAt: string;
  logging: { dir: string; sampleRate: number } | null;
  models: ServerStatusModel[];
}

export interface ServerLaunch {
  nodePath: string;
  serverJs: string;
  projectDir: string;
  args: string[];
}

const POLL_MS = 1000;

export class ServerProcess {
  url = '';
  status: ServerStatus | undefined;
  state: 'starting' | 'running' | 'stopped' = 'starting';
  readonly startedAt = Date.now();
  /** Requests per second over the last poll interval. */
  rps = 0;
  logDir: string | null = null;
  /** host:port of the OIP gRPC service, when the server was started with --grpc-port. */
  grpcUrl: string | undefined;
  /** The port asked for, when it was taken and the server took a free one (--port-fallback). */
  portTaken: number | undefined;
  private lastCount: { at: number; n: number } | undefined;
  private lastSeen = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly child: ChildProcess;
  private stderrTail = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly launch: ServerLaunch,
    private readonly onChange: () => void,
    private readonly log: (line: string) => void,
  ) {
    this.child = spawn(
      launch.nodePath,
      [launch.serverJs, ...launch.args, ...(launch.args.includes('--port') ? [] : ['--port', '0']), '--json'],
      {
        cwd: launch.projectDir,
        env: {
          ...process.env,
          ELECTRON_RUN_AS_NODE: '1',
          MLLOOP_SERVER_PARENT_PIPE: '1',
          MLLOOP_SERVER_CLIENT: 'vscode',
        },
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      },
    );
    this.child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      this.stderrTail = (this.stderrTail + text).slice(-4000);
      for (const line of text.split('\n'))
        if (line.trim() && !line.includes('DeprecationWarning') && !line.includes('--trace-deprecation'))
          this.log(`[server] ${line}`);
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        this.state = 'stopped';
        this.rps = 0;
        if (this.timer) clearInterval(this.timer);
        this.onChange();
        resolve(code);
      }),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get name(): string {
    return this.status?.name ?? '';
  }

  /** Resolves with the URL once the server listens; rejects with its error output if it exits first. */
  ready(): Promise<string> {
    return new Promise((resolve, reject) => {
      let out = '';
      this.child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('{"event":"listening"'));
        if (line && !this.url) {
          const ev = JSON.parse(line) as { url: string; logDir: string | null; portTaken?: number; grpc?: string };
          this.url = ev.url;
          this.grpcUrl = ev.grpc;
          this.logDir = ev.logDir;
          this.portTaken = ev.portTaken;
          this.state = 'running';
          this.timer = setInterval(() => void this.poll(), POLL_MS);
          void this.poll().then(() => resolve(this.url));
        }
      });
      void this.exited.then((code) => {
        if (!this.url)
          reject(
            new Error(
              `the inference server exited (${code}) before listening: ${this.stderrTail.trim().split('\n').slice(-3).join(' ')}`,
            ),
          );
      });
    });
  }

  async poll(): Promise<void> {
    if (this.state !== 'running') return;
    try {
      const res = await fetch(`${this.url}/v2/mlloop/status`);
      const text = await res.text();
      this.status = JSON.parse(text) as ServerStatus;
      const n = this.status.models.reduce((a, m) => a + m.versions.reduce((b, v) => b + v.requests, 0), 0);
      const now = Date.now();
      if (this.lastCount) this.rps = ((n - this.lastCount.n) * 1000) / Math.max(1, now - this.lastCount.at);
      this.lastCount = { at: now, n };
      // Listeners (the Deployments view, the status bar, open panels) hear of a change only: an idle
      // server's row is not redrawn every second, so its inline buttons stay clickable.
      const seen = `${text}|${this.rps.toFixed(1)}`;
      if (seen !== this.lastSeen) {
        this.lastSeen = seen;
        this.onChange();
      }
    } catch {
      // A busy or stopping server misses a poll; the next one catches up.
    }
  }

  async post(path: string, body: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(this.url + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(String(json.error ?? `HTTP ${res.status}`));
    await this.poll();
    return json;
  }

  /** SIGTERM (drain in-flight requests), SIGKILL after 3 s. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.child.kill('SIGTERM');
    const timeout = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(timeout);
  }

  dispose(): void {
    void this.stop();
  }
}
