// What the Compare panel shows of error analysis: for runs evaluated on the same dev split, the dev
// errors of each run in total, per tag (tags.json) and per slice (the slices found on the first
// run's errors), so a run trained on an augmented or corrected version shows whether the tag or
// slice it aimed at improved. Each run's model.onnx predicts the same dev rows.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveProject, type ProjectInput } from '../data/dataset';
import { findRun } from '../track/findRun';
import { predictDev } from './analysis';
import { loadDataVersion } from '../data/dataVersions';
import type { ErrorTable } from './errorTable';
import { findSlices, pixelFeaturesOf, sliceRows } from './slices';
import { readTags, tagTable } from './tags';
import { runsDir } from '../spec/layout';

export interface ErrorChanges {
  /** In the order given. */
  runIds: string[];
  devRows: number;
  /** All dev errors of each run. */
  errors: number[];
  /** Per tag carried by a dev example: each run's dev errors among the tagged examples. */
  tags: { tag: string; tagged: number; errors: number[] }[];
  /** The first run's worst slices: each run's dev errors in the slice. */
  slices: { key: string; label: string; support: number; errors: number[] }[];
}

/** Throws when a run has no model or the runs were not evaluated on the same dev rows. */
export async function errorChangesOfRuns(opts: { projectDir: ProjectInput; runIds: string[]; slices?: number }): Promise<ErrorChanges> {
  const ref = await resolveProject(opts.projectDir);
  const projectDir = dirname(ref.projectFile);
  const records = await Promise.all(opts.runIds.map((id) => findRun(projectDir, id)));
  const first = records[0];
  for (const r of records) {
    if (!existsSync(join(runsDir(projectDir), r.runId, 'model.onnx'))) throw new Error(`run ${r.runId} has no model.onnx`);
    if (r.dataVersion?.fileHash !== first.dataVersion?.fileHash || r.dataVersion?.splitHash !== first.dataVersion?.splitHash) {
      throw new Error(`runs ${first.runId} and ${r.runId} were evaluated on different dev splits (data ${first.dataVersion?.id ?? '?'} and ${r.dataVersion?.id ?? '?'})`);
    }
  }
  // Derived versions share their base's dev rows: the first run's version will do for every run.
  const dataset = await loadDataVersion(ref, first.dataVersion?.id, { cache: true });
  const tables: ErrorTable[] = [];
  for (const r of records) tables.push(await predictDev(join(runsDir(projectDir), r.runId), dataset));
  const store = await readTags(projectDir);
  const byRun = tables.map((t) => new Map(tagTable(t, store).map((row) => [row.tag, row])));
  const tagNames = [...new Set(byRun.flatMap((m) => [...m.keys()]))].sort();
  const tags = tagNames.map((tag) => ({ tag, tagged: byRun.find((m) => m.has(tag))!.get(tag)!.tagged, errors: byRun.map((m) => m.get(tag)?.errors ?? 0) }));
  const slices = findSlices(dataset.schema, dataset.dev, tables[0], { limit: opts.slices ?? 10, pixelFeatures: pixelFeaturesOf(dataset.schema, ref.spec.data.image) }).map((s) => {
    const rows = sliceRows(dataset.schema, dataset.dev, s.conditions);
    return { key: s.key, label: s.label, support: s.support, errors: tables.map((t) => rows.reduce((n, i) => n + t.wrong[i], 0)) };
  });
  return { runIds: records.map((r) => r.runId), devRows: dataset.dev.features.n, errors: tables.map((t) => t.errorCount), tags, slices };
}
