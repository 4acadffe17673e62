// Hot swap under load: clients keep sending while production flips between versions (promote, rollback,
// a newly added version, a repository version folder): zero failed requests, and every response was
// computed by the version it names (versions add different offsets), so in-flight requests finished on
// the version they started on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RepositoryWatcher } from '../../../src/core/serve/repository';
import { call, inferBody, offsetModel, startServer, tempDir, writeModel } from './helpers';

const OFFSET: Record<string, number> = { '1': 100, '2': 200, '3': 300 };

async function load(
  server: { url: string },
  stop: () => boolean,
  seen: Map<string, number>,
  failures: string[],
): Promise<void> {
  let i = 0;
  while (!stop()) {
    const x = [i % 7, (i * 3) % 11];
    const r = await call(server.url, 'POST', '/v2/models/m/infer', inferBody('x', 'FP32', [1, 2], x));
    if (r.status !== 200) failures.push(`${r.status} ${JSON.stringify(r.body)}`);
    else {
      const v = r.body.model_version as string;
      const off = OFFSET[v];
      if (r.body.outputs[0].data[0] !== x[0] + off || r.body.outputs[0].data[1] !== x[1] + off)
        failures.push(`version ${v} answered ${r.body.outputs[0].data} for ${x}`);
      seen.set(v, (seen.get(v) ?? 0) + 1);
    }
    i++;
  }
}

for (const [batching, workers] of [
  [true, 0],
  [false, 0],
  [true, 2],
] as const) {
  test(`promote, rollback and add versions under load: zero failures (batching ${batching ? 'on' : 'off'}${workers ? `, ${workers} inference workers` : ''})`, async () => {
    const dir = tempDir();
    const server = await startServer({ batching: { maxBatchSize: batching ? 32 : 1, maxQueueDelayUs: 0 }, workers });
    await server.registry.addVersion('m', { path: writeModel(dir, '1.onnx', offsetModel(100)) });
    await server.registry.addVersion(
      'm',
      { path: writeModel(dir, '2.onnx', offsetModel(200)) },
      { alias: 'candidate' },
    );
    let done = false;
    const seen = new Map<string, number>();
    const failures: string[] = [];
    const clients = Array.from({ length: 16 }, () => load(server, () => done, seen, failures));
    const swaps: string[] = [];
    for (let k = 0; k < 6; k++) {
      await new Promise((r) => setTimeout(r, 60));
      const r = await call(server, 'POST', '/v2/models/m/aliases/production', { version: k % 2 === 0 ? '2' : '1' });
      swaps.push(`${r.status}:${r.body.production}`);
    }
    // A version added while serving (loaded and warmed before it takes traffic), then promoted.
    const added = await call(server, 'POST', '/v2/repository/models/m/load', {
      parameters: { path: writeModel(dir, '3.onnx', offsetModel(300)) },
    });
    assert.equal(added.status, 200);
    await call(server, 'POST', '/v2/models/m/aliases/production', { version: '3' });
    await new Promise((r) => setTimeout(r, 60));
    assert.equal((await call(server, 'POST', '/v2/models/m/rollback')).body.production, '1');
    await new Promise((r) => setTimeout(r, 60));
    // An unloaded version leaves the rotation: its in-flight requests still finish.
    await call(server, 'POST', '/v2/models/m/aliases/production', { version: '2' });
    await call(server, 'POST', '/v2/repository/models/m/unload', { parameters: { version: '3' } });
    await new Promise((r) => setTimeout(r, 60));
    done = true;
    await Promise.all(clients);
    await server.close();
    assert.deepEqual(failures, []);
    assert.deepEqual(swaps, ['200:2', '200:1', '200:2', '200:1', '200:2', '200:1']);
    for (const v of ['1', '2', '3'])
      assert.ok((seen.get(v) ?? 0) > 0, `version ${v} served: ${JSON.stringify([...seen])}`);
  });
}

test('repository POLL: a new version folder is loaded, warmed and swapped in under load; a removed one is unloaded', async () => {
  const repo = tempDir('mlloop-repo-');
  writeModel(join(repo, 'm', '1'), 'model.onnx', offsetModel(100));
  mkdirSync(join(repo, 'm', 'not-a-version'), { recursive: true });
  const server = await startServer();
  const watcher = new RepositoryWatcher(repo, server.registry);
  await watcher.start(50);
  assert.equal(server.registry.entry('m').aliases.production, '1');
  let done = false;
  const seen = new Map<string, number>();
  const failures: string[] = [];
  const clients = Array.from({ length: 8 }, () => load(server, () => done, seen, failures));
  await new Promise((r) => setTimeout(r, 100));
  writeModel(join(repo, 'm', '2'), 'model.onnx', offsetModel(200));
  for (let i = 0; i < 100 && server.registry.entry('m').aliases.production !== '2'; i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.registry.entry('m').aliases.production, '2');
  await new Promise((r) => setTimeout(r, 100));
  done = true;
  await Promise.all(clients);
  assert.deepEqual(failures, []);
  assert.ok((seen.get('1') ?? 0) > 0 && (seen.get('2') ?? 0) > 0, JSON.stringify([...seen]));
  rmSync(join(repo, 'm', '1'), { recursive: true });
  await watcher.poll();
  assert.deepEqual([...server.registry.entry('m').sources.keys()], ['2']);
  // A broken model file does not take production and does not stop the watcher.
  writeModel(join(repo, 'm', '3'), 'model.onnx', new Uint8Array([1, 2, 3]));
  await watcher.poll();
  assert.equal(server.registry.entry('m').aliases.production, '2');
  watcher.stop();
  await server.close();
});
