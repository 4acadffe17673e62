// Tags: free-text causes the user gives examples, per project (not per run), in .mlloop/tags.json
// keyed by the stable example id (a hash of the row's content), so they survive retraining,
// re-splitting and new runs. The tag table is Ng's error-analysis table.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ErrorTable } from './errorTable';
import { TAGS_FILE } from '../spec/layout';

/** Example id → its tags (sorted, unique). */
export type TagStore = Record<string, string[]>;

export function tagsPath(projectDir: string): string {
  return join(projectDir, TAGS_FILE);
}

export async function readTags(projectDir: string): Promise<TagStore> {
  try {
    const parsed = JSON.parse(await readFile(tagsPath(projectDir), 'utf8')) as { tags?: TagStore };
    return parsed.tags ?? {};
  } catch {
    return {};
  }
}

export async function writeTags(projectDir: string, tags: TagStore): Promise<void> {
  const file = tagsPath(projectDir);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const sorted: TagStore = {};
  for (const id of Object.keys(tags).sort()) if (tags[id].length) sorted[id] = tags[id];
  await writeFile(tmp, JSON.stringify({ version: 1, tags: sorted }, null, 1) + '\n');
  await rename(tmp, file); // atomic: a concurrent reader sees the old or the new file, never half
}

export function normalizeTag(tag: string): string {
  return tag.trim().replace(/\s+/g, ' ');
}

/** Adds (or with remove=true, removes) `tag` on each of `ids`; returns a new store. */
export function withTag(store: TagStore, ids: readonly string[], tag: string, remove = false): TagStore {
  const t = normalizeTag(tag);
  if (!t) return store;
  const out: TagStore = { ...store };
  for (const id of ids) {
    const set = new Set(out[id] ?? []);
    if (remove) set.delete(t);
    else set.add(t);
    if (set.size) out[id] = [...set].sort();
    else delete out[id];
  }
  return out;
}

/** Read-modify-write of tags.json (the store is re-read so a change made meanwhile elsewhere is kept). */
export async function updateTags(
  projectDir: string,
  ids: readonly string[],
  tag: string,
  remove = false,
): Promise<TagStore> {
  const next = withTag(await readTags(projectDir), ids, tag, remove);
  await writeTags(projectDir, next);
  return next;
}

export interface TagRow {
  tag: string;
  /** Dev errors carrying the tag. */
  errors: number;
  /** errors / all dev errors: the ceiling on what fixing this cause can gain. */
  shareOfErrors: number;
  /** Dev examples carrying the tag (right or wrong). */
  tagged: number;
  /** errors / tagged. */
  errorRate: number;
  /** Errors with the tag in earlier runs (oldest first), when given. */
  history?: { runId: string; errors: number }[];
  /** Queued production examples carrying the tag (the review queue), when any. */
  production?: number;
}

/** Ng's error-analysis table for one run's error table, most errors first. */
export function tagTable(table: ErrorTable, store: TagStore): TagRow[] {
  const rows = new Map<string, TagRow>();
  for (let i = 0; i < table.n; i++) {
    const tags = store[table.ids[i]];
    if (!tags) continue;
    for (const tag of tags) {
      let r = rows.get(tag);
      if (!r) rows.set(tag, (r = { tag, errors: 0, shareOfErrors: 0, tagged: 0, errorRate: 0 }));
      r.tagged++;
      if (table.wrong[i]) r.errors++;
    }
  }
  for (const r of rows.values()) {
    r.shareOfErrors = table.errorCount ? r.errors / table.errorCount : 0;
    r.errorRate = r.tagged ? r.errors / r.tagged : 0;
  }
  return [...rows.values()].sort((a, b) => b.errors - a.errors || a.tag.localeCompare(b.tag));
}

/**
 * The tag table with each tag's count among the queued production examples `productionIds`; a tag
 * given only to production examples gets a row of its own (no dev errors), after the others.
 */
export function withProductionCounts(rows: TagRow[], store: TagStore, productionIds: readonly string[]): TagRow[] {
  const counts = new Map<string, number>();
  for (const id of productionIds) for (const t of store[id] ?? []) counts.set(t, (counts.get(t) ?? 0) + 1);
  if (!counts.size) return rows;
  const out = rows.map((r) => (counts.has(r.tag) ? { ...r, production: counts.get(r.tag) } : r));
  const only = [...counts]
    .filter(([t]) => !rows.some((r) => r.tag === t))
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return [
    ...out,
    ...only.map(([tag, production]): TagRow => ({
      tag,
      errors: 0,
      shareOfErrors: 0,
      tagged: 0,
      errorRate: 0,
      production,
    })),
  ];
}

/** Adds to each row of `current` its error count in earlier runs' tables (oldest first). */
export function withHistory(
  current: TagRow[],
  earlier: { runId: string; table: ErrorTable }[],
  store: TagStore,
): TagRow[] {
  const counts = earlier.map(({ runId, table }) => ({
    runId,
    byTag: new Map(tagTable(table, store).map((r) => [r.tag, r.errors])),
  }));
  return current.map((r) => ({
    ...r,
    history: counts.map((c) => ({ runId: c.runId, errors: c.byTag.get(r.tag) ?? 0 })),
  }));
}

/** Every tag in the store, with how many examples carry it. */
export function tagNames(store: TagStore): { tag: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const tags of Object.values(store)) for (const t of tags) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts]
    .map(([tag, count]) => ({ tag, count }))
    .sort((a, b) => b.count - a.count || a.tag.localeCompare(b.tag));
}

/** The ids whose tags differ between two stores, with their tags in `after` ([] = none left). */
export function changedTags(before: TagStore, after: TagStore): TagStore {
  const out: TagStore = {};
  for (const id of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[id] ?? [];
    const b = after[id] ?? [];
    if (a.length !== b.length || a.some((t, i) => t !== b[i])) out[id] = b;
  }
  return out;
}
