// Decoding on worker threads gives exactly what decoding in the calling thread gives, chunk by chunk,
// failures included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeInChunks, runDecodeJob, type DecodeResult } from '../../../../src/core/data/images/decodePool';
import type { SourceImageInfo } from '../../../../src/core/data/images/preprocess';
import { PROPERTY_NAMES } from '../../../../src/core/data/images/properties';
import { patternPng } from './imageFixture';

test('worker threads decode the same headers, pixels and properties as the calling thread, and name the broken file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-pool-'));
  try {
    const files: string[] = [];
    for (let i = 0; i < 23; i++) {
      const f = join(dir, `${i}.png`);
      writeFileSync(f, i === 11 ? Buffer.from('not a png') : await patternPng(i % 3, i));
      files.push(f);
    }
    const settings = { height: 8, width: 8, channels: 1 as const };
    const headers: NonNullable<DecodeResult['infos']> = new Array(files.length);
    await decodeInChunks({ kind: 'info', files }, (start, r) => r.infos!.forEach((x, k) => (headers[start + k] = x)), {
      chunk: 5,
      minForWorkers: 1,
    });
    assert.deepEqual(headers, (await runDecodeJob({ kind: 'info', files })).infos);
    assert.ok('error' in headers[11]);
    const good = files.filter((_, i) => i !== 11);
    const goodInfos = headers.filter((_, i) => i !== 11) as SourceImageInfo[];
    // The broken file given a made-up header: its decode fails in the worker, named by index.
    const job = { kind: 'decode' as const, files: [...good, files[11]], infos: [...goodInfos, goodInfos[0]], settings };
    const n = job.files.length;
    const pixels = new Uint8Array(n * 64);
    const properties = new Float64Array(n * PROPERTY_NAMES.length);
    const errors: (string | null)[] = new Array(n);
    await decodeInChunks(
      job,
      (start, r) => {
        pixels.set(r.pixels!, start * 64);
        properties.set(r.properties!, start * PROPERTY_NAMES.length);
        r.errors!.forEach((e, k) => (errors[start + k] = e));
      },
      { chunk: 4, minForWorkers: 1 },
    );
    const here = await runDecodeJob(job);
    assert.deepEqual([...pixels], [...here.pixels!]);
    assert.deepEqual([...properties], [...here.properties!]);
    assert.deepEqual(errors, here.errors);
    assert.equal(errors.filter((e) => e !== null).length, 1);
    assert.ok(errors[n - 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
