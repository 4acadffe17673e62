// The run records a diagnosis starts from: .mlloop/runs/<id>/run.json, newest first.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runsDir, type RunRecord } from '../train/runStore';

export function listRunRecords(projectDir: string): RunRecord[] {
  const dir = runsDir(projectDir);
  if (!existsSync(dir)) return [];
  const out: RunRecord[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    try {
      out.push(JSON.parse(readFileSync(join(dir, entry.name, 'run.json'), 'utf8')) as RunRecord);
    } catch {
      // A run being created (or a foreign folder) has no readable run.json yet.
    }
  }
  // Run ids sort by creation time.
  return out.sort((a, b) => (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0));
}

/** The newest completed run of each experiment. */
export function latestCompletedRuns(projectDir: string): Map<string, RunRecord> {
  const latest = new Map<string, RunRecord>();
  for (const r of listRunRecords(projectDir)) {
    if (r.status === 'completed' && r.metrics?.train && !latest.has(r.experiment)) latest.set(r.experiment, r);
  }
  return latest;
}
