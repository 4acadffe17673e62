// The models a server holds: name → versions (1, 2, …) with aliases `production` (what unversioned
// requests get) and `candidate`. Switching an alias is one synchronous assignment after the target
// version is loaded and warmed, so a swap has no downtime; a request holds the version it resolved
// at its start until it finishes, so in-flight requests complete on the version they started on.
import { Batcher, DEFAULT_BATCHING, type BatchingOptions } from './batcher';
import { HttpError, NotFound } from './errors';
import type { WorkersOption } from './engine';
import { ServedVersion, type VersionSource } from './model';
import type { OrtThreadOptions } from '../onnx/session';

export type Alias = 'production' | 'candidate';
export const ALIASES: Alias[] = ['production', 'candidate'];

export interface ModelEntry {
  name: string;
  /** Loaded versions. */
  versions: Map<string, ServedVersion>;
  /** Every version known (loaded or not), with where it comes from. */
  sources: Map<string, VersionSource>;
  aliases: Partial<Record<Alias, string>>;
  /** Previous production versions, most recent last: rollback pops it. */
  productionHistory: string[];
}

export interface RegistryOptions {
  batching?: BatchingOptions;
  threads?: OrtThreadOptions;
  /** Inference worker threads per loaded version (0: the server's thread; default auto). */
  workers?: WorkersOption;
  onRun?: (version: ServedVersion, rows: number, ms: number) => void;
  onChange?: () => void;
}

export class ModelRegistry {
  readonly models = new Map<string, ModelEntry>();
  private readonly batchers = new Map<ServedVersion, Batcher>();
  private readonly loading = new Map<string, Promise<ServedVersion>>();

  constructor(private readonly options: RegistryOptions = {}) {}

  entry(name: string): ModelEntry {
    const e = this.models.get(name);
    if (!e)
      throw new NotFound(
        `unknown model "${name}"; this server has: ${[...this.models.keys()].join(', ') || 'no models'}`,
      );
    return e;
  }

  private ensureEntry(name: string): ModelEntry {
    let e = this.models.get(name);
    if (!e) {
      e = { name, versions: new Map(), sources: new Map(), aliases: {}, productionHistory: [] };
      this.models.set(name, e);
    }
    return e;
  }

  /** Records a version's source without loading it (a repository version seen on disk). */
  know(name: string, version: string, source: VersionSource): void {
    this.ensureEntry(name).sources.set(version, source);
  }

  nextVersion(name: string): string {
    const e = this.models.get(name);
    const nums = e ? [...e.sources.keys()].map(Number).filter(Number.isInteger) : [];
    return String(nums.length ? Math.max(...nums) + 1 : 1);
  }

  /**
   * Loads and warms a version (a new one when `version` is absent), then points `alias` at it. The first
   * version of a model becomes production whatever `alias` says.
   */
  async addVersion(
    name: string,
    source: VersionSource,
    opts: { version?: string; alias?: Alias } = {},
  ): Promise<ServedVersion> {
    const e = this.ensureEntry(name);
    const version = opts.version ?? this.nextVersion(name);
    e.sources.set(version, source);
    const v = await this.load(name, version);
    if (!e.aliases.production) this.setAliasNow(e, 'production', version);
    else if (opts.alias) this.setAliasNow(e, opts.alias, version);
    this.options.onChange?.();
    return v;
  }

  /** Loads a known version (idempotent; concurrent calls share one load). */
  async load(name: string, version: string): Promise<ServedVersion> {
    const e = this.entry(name);
    const loaded = e.versions.get(version);
    if (loaded) return loaded;
    const source = e.sources.get(version);
    if (!source)
      throw new NotFound(
        `model "${name}" has no version ${version}; known: ${[...e.sources.keys()].join(', ') || 'none'}`,
      );
    const key = `${name}\0${version}`;
    let p = this.loading.get(key);
    if (!p) {
      p = ServedVersion.load(name, version, source, this.options.threads, this.options.workers).finally(() =>
        this.loading.delete(key),
      );
      this.loading.set(key, p);
    }
    const v = await p;
    if (!e.versions.has(version)) {
      e.versions.set(version, v);
      this.batchers.set(
        v,
        new Batcher(v, this.options.batching ?? DEFAULT_BATCHING, v.engine, (rows, ms) =>
          this.options.onRun?.(v, rows, ms),
        ),
      );
    }
    this.options.onChange?.();
    return e.versions.get(version)!;
  }

  /** The version a request gets: the named one, an alias, or production. */
  resolve(name: string, version?: string): ServedVersion {
    const e = this.entry(name);
    const wanted =
      version === undefined
        ? e.aliases.production
        : ALIASES.includes(version as Alias)
          ? e.aliases[version as Alias]
          : version;
    if (wanted === undefined)
      throw new HttpError(
        version === undefined ? 503 : 404,
        `model "${name}" has no ${version ?? 'production'} version`,
      );
    const v = e.versions.get(wanted);
    if (!v) {
      if (e.sources.has(wanted))
        throw new HttpError(
          503,
          `version ${wanted} of model "${name}" is not loaded (POST /v2/repository/models/${name}/load)`,
        );
      throw new NotFound(
        `model "${name}" has no version ${wanted}; loaded: ${[...e.versions.keys()].join(', ') || 'none'}`,
      );
    }
    return v;
  }

  batcher(v: ServedVersion): Batcher {
    return this.batchers.get(v)!;
  }

  /** Hot swap: loads and warms `version` if needed (the old one keeps serving), then switches the alias. */
  async setAlias(name: string, alias: Alias, version: string): Promise<void> {
    const e = this.entry(name);
    if (!e.sources.has(version))
      throw new NotFound(`model "${name}" has no version ${version}; known: ${[...e.sources.keys()].join(', ')}`);
    await this.load(name, version);
    this.setAliasNow(e, alias, version);
    this.options.onChange?.();
  }

  private setAliasNow(e: ModelEntry, alias: Alias, version: string): void {
    const previous = e.aliases[alias];
    if (previous === version) return;
    if (alias === 'production' && previous !== undefined) e.productionHistory.push(previous);
    e.aliases[alias] = version;
    if (alias === 'production' && e.aliases.candidate === version) delete e.aliases.candidate;
  }

  /** Points production back at the version it had before the last switch. */
  async rollback(name: string): Promise<string> {
    const e = this.entry(name);
    const previous = e.productionHistory[e.productionHistory.length - 1];
    if (previous === undefined)
      throw new HttpError(409, `model "${name}" has no earlier production version to roll back to`);
    await this.load(name, previous);
    const current = e.aliases.production;
    e.productionHistory.pop();
    e.aliases.production = previous;
    if (current !== undefined) e.aliases.candidate = current;
    this.options.onChange?.();
    return previous;
  }

  /** Unloads one version (or every version): it stops taking requests now and is freed when its in-flight ones finish. */
  async unload(name: string, version?: string): Promise<void> {
    const e = this.entry(name);
    const targets = version === undefined ? [...e.versions.keys()] : [version];
    const freeing: Promise<void>[] = [];
    for (const ver of targets) {
      const v = e.versions.get(ver);
      if (!v) continue;
      e.versions.delete(ver);
      this.batchers.get(v)?.dispose();
      this.batchers.delete(v);
      freeing.push(v.unload());
    }
    this.options.onChange?.();
    await Promise.all(freeing);
  }

  /** Forgets a version entirely (its folder left the repository). */
  async remove(name: string, version: string): Promise<void> {
    const e = this.entry(name);
    await this.unload(name, version);
    e.sources.delete(version);
    for (const a of ALIASES) if (e.aliases[a] === version) delete e.aliases[a];
    e.productionHistory = e.productionHistory.filter((h) => h !== version);
    this.options.onChange?.();
  }

  loadedVersions(): ServedVersion[] {
    return [...this.models.values()].flatMap((e) => [...e.versions.values()]);
  }

  async close(): Promise<void> {
    await Promise.all([...this.models.keys()].map((n) => this.unload(n)));
  }
}
