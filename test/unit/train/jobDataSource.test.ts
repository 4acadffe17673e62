// A training job loads its project's data itself: the first job parses the CSV (a file this large on
// two threads, src/core/data/scan.ts), the next one reads the dataset cache, and both train the same
// model, byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executeTrainJob, type LoadedInfo } from '../../../src/core/train/job';
import { resolveProject } from '../../../src/core/data/dataset';
import { PARALLEL_MIN_BYTES, planCsvRanges } from '../../../src/core/data/reader';
import { mulberry32 } from '../../../src/core/data/prng';
import { baseSpec, tempProject } from '../data/fixture';

/** A 3-class CSV just above the size scanned on two threads. */
function largeCsv(): string {
  const rand = mulberry32(3);
  const lines = ['a,b,c,d,label'];
  let size = 0;
  while (size < PARALLEL_MIN_BYTES * 1.05) {
    const x = [rand(), rand(), rand(), rand()].map((v) => (v * 10 - 5).toFixed(5));
    const label = ['p', 'q', 'r'][+x[0] + +x[1] > 0 ? (+x[2] > 0 ? 0 : 1) : 2];
    const line = `${x.join(',')},${label}`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n') + '\n';
}

test('a second job on the same data reads the dataset cache and trains the same model bytes', async () => {
  const p = tempProject(baseSpec({ data: { target: 'label' } }), { 'data.csv': largeCsv() });
  try {
    assert.ok(await planCsvRanges(p.path('data.csv'), 2), 'the file is scanned on two threads');
    const project = await resolveProject(p.projectFile);
    const train = async () => {
      let loaded: LoadedInfo | undefined;
      const r = await executeTrainJob(
        { data: { project }, model: 'gbdt', params: { iterations: 5, maxLeaves: 7 }, seed: 0 },
        { runId: 'run-1', mlloopVersion: '0.0.0' },
        { onLoaded: (info) => (loaded = info) },
      );
      return { r, loaded: loaded! };
    };
    const cold = await train();
    const warm = await train();
    assert.equal(cold.loaded.source, 'file');
    assert.equal(warm.loaded.source, 'cache');
    assert.deepEqual(warm.loaded.rows, cold.loaded.rows);
    assert.equal(warm.loaded.version.id, cold.loaded.version.id);
    assert.ok(Buffer.from(warm.r.onnx).equals(Buffer.from(cold.r.onnx)), 'the same model bytes');
  } finally {
    p.cleanup();
  }
});
