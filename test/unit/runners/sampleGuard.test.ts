// The guard that keeps tests out of the checkout's samples: a copy without the run store, and a
// snapshot diff that names what a tier added, removed or changed under examples/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { copyOfSample, snapshotTree, treeChanges } from '../../runners/sampleGuard.mjs';

test('a copy of a sample leaves its run store behind; the snapshot diff names added, removed and changed files', () => {
  const sample = mkdtempSync(join(tmpdir(), 'mlloop-guard-'));
  try {
    writeFileSync(join(sample, 'mlloop.json'), '{}');
    mkdirSync(join(sample, '.mlloop', 'runs', 'r1'), { recursive: true });
    writeFileSync(join(sample, '.mlloop', 'runs', 'r1', 'run.json'), '{}');
    const copy = copyOfSample(sample);
    assert.equal(basename(copy), basename(sample), 'the copy keeps the folder name');
    assert.ok(existsSync(join(copy, 'mlloop.json')));
    assert.ok(!existsSync(join(copy, '.mlloop')), 'a user\'s runs are not copied');
    rmSync(dirname(copy), { recursive: true, force: true });

    const before = snapshotTree(sample);
    mkdirSync(join(sample, '.mlloop', 'runs', 'r2'));
    writeFileSync(join(sample, '.mlloop', 'runs', 'r2', 'run.json'), '{}');
    writeFileSync(join(sample, 'mlloop.json'), '{"edited": true}');
    rmSync(join(sample, '.mlloop', 'runs', 'r1'), { recursive: true });
    assert.deepEqual(treeChanges(before, snapshotTree(sample)), ['~ mlloop.json', '- .mlloop/runs/r1/run.json', '+ .mlloop/runs/r2/run.json'].sort((a, b) => a.slice(2).localeCompare(b.slice(2))));
    assert.deepEqual(treeChanges(before, before), []);
  } finally {
    rmSync(sample, { recursive: true, force: true });
  }
});
