// Likely label errors: digits with 4 % of its train/dev labels flipped on purpose; confident
// learning over 5-fold out-of-sample probabilities (each fold trained in the training worker) ranks
// the flipped examples first far better than chance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSplitDataset } from '../../../src/core/data/dataset';
import { mulberry32 } from '../../../src/core/data/prng';
import { confidentLearning, findLabelIssues, precisionAtK } from '../../../src/core/analysis/labelErrors';

test('confident learning flags a confidently contradicted label and not an uncertain one', () => {
  // 3 classes; rows 0-3 labelled 0 (row 3 looks like class 1), rows 4-7 labelled 1, row 8 labelled 2 and uncertain.
  const p = [
    [0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.85, 0.1, 0.05], [0.05, 0.9, 0.05],
    [0.1, 0.8, 0.1], [0.1, 0.85, 0.05], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1],
    [0.3, 0.3, 0.4],
  ];
  const y = Float64Array.from([0, 0, 0, 0, 1, 1, 1, 1, 2]);
  const { issues, thresholds } = confidentLearning(y, Float32Array.from(p.flat()), 3);
  assert.ok(Math.abs(thresholds[0] - (0.9 + 0.8 + 0.85 + 0.05) / 4) < 1e-6);
  assert.deepEqual(issues.map((i) => [i.row, i.given, i.suggested]), [[3, 0, 1]]);
});

test('planted flipped labels on digits: precision at k far above chance', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-label-errors-'));
  cpSync(join(__dirname, '..', '..', '..', 'examples', 'digits'), dir, { recursive: true });
  rmSync(join(dir, '.mlloop'), { recursive: true, force: true });
  const file = join(dir, 'data', 'digits.csv');
  const [header, ...lines] = readFileSync(file, 'utf8').trimEnd().split(/\r?\n/);
  const rand = mulberry32(42);
  const flippedRows = new Set<number>();
  const out = lines.map((line, i) => {
    if (rand() >= 0.04) return line;
    const cells = line.split(',');
    const digit = Number(cells[64]);
    cells[64] = String((digit + 1 + Math.floor(rand() * 9)) % 10);
    flippedRows.add(i);
    return cells.join(',');
  });
  writeFileSync(file, [header, ...out].join('\n') + '\n');
  const dataset = await loadSplitDataset(dir);
  const flipped = new Set<string>();
  for (const s of ['train', 'dev'] as const) dataset[s].ids.forEach((id, i) => flippedRows.has(dataset[s].rowIndex[i]) && flipped.add(id));
  const pooled = dataset.train.features.n + dataset.dev.features.n;
  const t0 = Date.now();
  const { issues, folds } = await findLabelIssues(dataset, { model: 'logistic', params: { l2: 1e-3, maxIter: 100, tol: 1e-6 }, seed: 0 }, { folds: 5, concurrency: 2 });
  const ms = Date.now() - t0;
  assert.equal(folds, 5);
  const ranked = issues.map((i) => i.id);
  const k = flipped.size;
  const chance = k / pooled;
  const pAtK = precisionAtK(ranked, flipped, k);
  const pAt20 = precisionAtK(ranked, flipped, 20);
  const recall = ranked.filter((id) => flipped.has(id)).length / k;
  console.log(`label errors: ${k} flipped of ${pooled} (chance ${chance.toFixed(3)}); precision@20 ${pAt20.toFixed(2)}, precision@${k} ${pAtK.toFixed(2)}, recall of all ${issues.length} flagged ${recall.toFixed(2)}; ${ms} ms`);
  assert.ok(k > 30, `${k} flipped`);
  assert.ok(pAt20 >= 0.9, `precision@20 ${pAt20}`);
  assert.ok(pAtK >= 10 * chance && pAtK >= 0.6, `precision@${k} ${pAtK} vs chance ${chance}`);
  // Each flagged example is named by its row in the data file (and line), as error examples are: the
  // top ones are the rows this test flipped, and the line holds that row's text.
  const top = issues.filter((x) => flipped.has(x.id)).slice(0, 10);
  for (const x of top) {
    assert.ok(flippedRows.has(x.rowIndex!), `row ${x.rowIndex} of ${x.id} was flipped`);
    assert.equal(x.line, x.rowIndex! + 2);
    assert.equal(readFileSync(file, 'utf8').split('\n')[x.line! - 1], out[x.rowIndex!]);
  }
});
