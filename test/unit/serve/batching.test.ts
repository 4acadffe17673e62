// Dynamic batching, on the server's thread and in an inference worker: concurrent requests are
// stacked only with requests of the same trailing shape, each gets its own rows back, and a batch
// that fails is re-run request by request so that only the bad request fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxGraphBuilder } from '../../../src/core/onnx/builder';
import { call, inferBody, startServer, tempDir, writeModel } from './helpers';

const dir = tempDir();

/** x float [N, M] → y = x: any width, so requests of different widths cannot share a run. */
function anyWidthIdentity(): Uint8Array {
  const b = new OnnxGraphBuilder('any_width');
  b.addInput('x', 'float', ['N', 'M']);
  b.addNode('Identity', ['x'], ['y']);
  b.addOutput('y', 'float', ['N', 'M']);
  return b.build();
}

/** i int64 [N, 1] → y = table[i] float [N, 1, 1] over a table of 5 values: an index past 4 makes the run fail. */
function lookupModel(): Uint8Array {
  const b = new OnnxGraphBuilder('lookup');
  b.addInput('i', 'int64', ['N', 1]);
  const table = b.addInitializer('table', new Float32Array([10, 11, 12, 13, 14]), [5, 1]);
  b.addNode('Gather', [table, 'i'], ['y'], { axis: 0 });
  b.addOutput('y', 'float', ['N', 1, 1]);
  return b.build();
}

for (const workers of [0, 1]) {
  const where = workers ? 'in an inference worker' : "on the server's thread";

  test(`requests of different widths are batched only with their like, each gets its rows back (${where})`, async () => {
    const server = await startServer({ workers, batching: { maxBatchSize: 64, maxQueueDelayUs: 20_000 } });
    try {
      await server.registry.addVersion('m', { path: writeModel(dir, 'any.onnx', anyWidthIdentity()) });
      const rows = Array.from({ length: 12 }, (_, k) => Array.from({ length: 2 + (k % 3) }, (_, j) => k * 10 + j));
      const rs = await Promise.all(
        rows.map((r) => call(server, 'POST', '/v2/models/m/infer', inferBody('x', 'FP32', [1, r.length], r))),
      );
      for (const [k, r] of rs.entries()) {
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.deepEqual(r.body.outputs[0], { name: 'y', datatype: 'FP32', shape: [1, rows[k].length], data: rows[k] });
      }
      const stats = (await call(server, 'GET', '/v2/models/m/stats')).body.model_stats[0];
      assert.equal(stats.inference_count, 12);
      // Three widths: at least three runs, and fewer than one per request once they queue together.
      assert.ok(stats.execution_count >= 3 && stats.execution_count < 12, JSON.stringify(stats.batch_stats));
    } finally {
      await server.close();
    }
  });

  test(`a batch that fails is re-run request by request: only the bad request fails (${where})`, async () => {
    const server = await startServer({ workers, batching: { maxBatchSize: 64, maxQueueDelayUs: 20_000 } });
    try {
      await server.registry.addVersion('lookup', { path: writeModel(dir, 'lookup.onnx', lookupModel()) });
      const indices = [0, 3, 7, 4, 1];
      const rs = await Promise.all(
        indices.map((i) => call(server, 'POST', '/v2/models/lookup/infer', inferBody('i', 'INT64', [1, 1], [i]))),
      );
      for (const [k, r] of rs.entries()) {
        if (indices[k] === 7) {
          assert.equal(r.status, 400);
          assert.match(r.body.error, /the model could not run on this input/);
        } else {
          assert.equal(r.status, 200, JSON.stringify(r.body));
          assert.deepEqual(r.body.outputs[0].data, [10 + indices[k]]);
        }
      }
      const stats = (await call(server, 'GET', '/v2/models/lookup/stats')).body.model_stats[0];
      assert.equal(stats.inference_stats.fail.count, 1);
    } finally {
      await server.close();
    }
  });
}
