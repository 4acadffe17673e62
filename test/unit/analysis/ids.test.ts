// Example ids are a hash of the row's content: the same row keeps its id (and so its tags) when the
// split changes (another seed or fractions) and when the file's rows are reordered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSplitDataset } from '../../../src/core/data/dataset';
import type { SplitDataset } from '../../../src/core/data/types';
import type { ProjectSpec } from '../../../src/core/spec/types';
import { IRIS_CSV } from '../../datasets';

const irisCsv = readFileSync(IRIS_CSV, 'utf8');

function project(csv: string, split: ProjectSpec['data']['split']): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-ids-'));
  writeFileSync(join(dir, 'data.csv'), csv);
  writeFileSync(
    join(dir, 'mlloop.json'),
    JSON.stringify({
      name: 'ids',
      task: 'classification',
      data: { path: 'data.csv', target: 'species', split },
      metric: 'accuracy',
      experiments: { lr: { model: 'logistic' } },
    }),
  );
  return dir;
}

function idsBySplit(d: SplitDataset): Map<string, string> {
  const m = new Map<string, string>();
  for (const s of ['train', 'dev', 'test'] as const) for (const id of d[s].ids) m.set(id, s);
  return m;
}

/** Row content (features and label) per id. */
function contentById(d: SplitDataset): Map<string, string> {
  const m = new Map<string, string>();
  const F = d.schema.numeric.length;
  for (const s of ['train', 'dev', 'test'] as const) {
    d[s].ids.forEach((id, i) =>
      m.set(id, [...d[s].features.numeric.subarray(i * F, (i + 1) * F), d[s].y[i]].join(',')),
    );
  }
  return m;
}

test('the same rows keep their ids across re-splits and reordering; only their split changes', async () => {
  const a = await loadSplitDataset(project(irisCsv, { dev: 0.2, test: 0.2, seed: 0 }));
  const b = await loadSplitDataset(project(irisCsv, { dev: 0.3, test: 0.1, seed: 5 }));
  const [header, ...lines] = irisCsv.trimEnd().split(/\r?\n/);
  const reordered = [header, ...lines.reverse()].join('\n') + '\n';
  const c = await loadSplitDataset(project(reordered, { dev: 0.2, test: 0.2, seed: 0 }));
  const ca = contentById(a);
  for (const other of [b, c]) {
    const co = contentById(other);
    assert.equal(co.size, ca.size);
    for (const [id, content] of ca) assert.equal(co.get(id), content, `id ${id} names the same row`);
  }
  const sa = idsBySplit(a);
  const sb = idsBySplit(b);
  assert.ok(
    [...sa].some(([id, s]) => sb.get(id) !== s),
    'the re-split moved some rows',
  );
  assert.ok(a.version.id !== b.version.id);
  // Reordering keeps the split as well (a row's side depends on its content).
  const sc = idsBySplit(c);
  for (const [id, s] of sa) assert.equal(sc.get(id), s);
});
