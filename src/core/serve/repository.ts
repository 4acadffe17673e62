// A Triton-layout model repository (`DIR/<name>/<version>/model.onnx`, versions are positive integers)
// served in Triton's POLL mode, without its unload-before-load gap: a new version is loaded and warmed
// while the current one serves, then production switches to the newest version; a removed version
// folder is unloaded once its in-flight requests finish.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelRegistry } from './registry';

export interface RepositoryVersion {
  name: string;
  version: string;
  path: string;
}

export function scanRepository(dir: string): RepositoryVersion[] {
  const out: RepositoryVersion[] = [];
  for (const name of safeReaddir(dir)) {
    const modelDir = join(dir, name);
    if (!isDir(modelDir)) continue;
    for (const version of safeReaddir(modelDir)) {
      if (!/^[1-9]\d*$/.test(version)) continue;
      const path = join(modelDir, version, 'model.onnx');
      if (existsSync(path)) out.push({ name, version, path });
    }
  }
  return out;
}

export class RepositoryWatcher {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  /** Files whose load failed, by path and mtime, so a broken file is not retried every poll. */
  private readonly failed = new Map<string, number>();

  constructor(
    readonly dir: string,
    private readonly registry: ModelRegistry,
    private readonly onError: (message: string) => void = () => {},
  ) {}

  /** Loads everything once; then polls every `intervalMs` when given. */
  async start(intervalMs?: number): Promise<void> {
    await this.poll();
    if (intervalMs && intervalMs > 0) {
      this.timer = setInterval(() => void this.poll(), intervalMs);
      this.timer.unref();
    }
  }

  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const found = scanRepository(this.dir);
      const byModel = new Map<string, RepositoryVersion[]>();
      for (const f of found) byModel.set(f.name, [...(byModel.get(f.name) ?? []), f]);
      for (const [name, versions] of byModel) {
        versions.sort((a, b) => Number(a.version) - Number(b.version));
        const entry = this.registry.models.get(name);
        for (const v of versions)
          if (!entry?.sources.has(v.version)) this.registry.know(name, v.version, { path: v.path });
        const newest = versions[versions.length - 1];
        const current = this.registry.models.get(name)!.aliases.production;
        if (current !== newest.version && Number(newest.version) > Number(current ?? 0)) {
          const mtime = statSync(newest.path).mtimeMs;
          if (this.failed.get(newest.path) === mtime) continue;
          try {
            await this.registry.setAlias(name, 'production', newest.version);
          } catch (e) {
            this.failed.set(newest.path, mtime);
            this.onError(`${newest.path}: ${(e as Error).message}`);
          }
        }
      }
      for (const [name, entry] of this.registry.models) {
        const onDisk = new Set((byModel.get(name) ?? []).map((v) => v.version));
        for (const version of [...entry.sources.keys()]) {
          const src = entry.sources.get(version)!;
          if (src.path.startsWith(this.dir) && !onDisk.has(version)) await this.registry.remove(name, version);
        }
      }
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
