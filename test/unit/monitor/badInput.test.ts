// Bad input never crashes monitoring: truncated or corrupt log lines and columnar records, records of
// another model version with other inputs, feedback for unknown ids and bad feedback lines, failed
// requests, an empty window. Each is reported (issues) and skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
  statSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RequestLog } from '../../../src/core/requestLog/log';
import type { LogSchema } from '../../../src/core/requestLog/columnar';
import { monitorDeployment, type MonitoringReference } from '../../../src/core/monitor';
import { numericReference } from '../../../src/core/train/reference';

const SCHEMA: LogSchema = {
  model: 'm',
  version: '1',
  runId: 'r1',
  task: 'classification',
  features: ['a', 'b'],
  categories: [],
  classes: ['x', 'y'],
};
const OTHER: LogSchema = { ...SCHEMA, version: '2', runId: 'r2', features: ['a', 'c', 'd'] };

function reference(): MonitoringReference {
  const a = Array.from({ length: 200 }, (_, i) => i % 20);
  return {
    format: 'mlloop-reference/1',
    task: 'classification',
    target: 't',
    classes: ['x', 'y'],
    features: [
      numericReference('a', a),
      numericReference(
        'b',
        a.map((v) => v * 2),
      ),
    ],
    rows: 200,
    predictions: { kind: 'classes', classes: { x: 100, y: 100 }, meanConfidence: 0.8 },
    devScore: { metric: 'accuracy', value: 0.9 },
    source: 'training',
    createdAt: new Date().toISOString(),
  };
}

/** Writes `n` requests of `schema` (values i % 20 and 2·(i % 20)) through the server's RequestLog. */
function writeLog(dir: string, n: number, schema = SCHEMA, opts: { status?: number; start?: number } = {}): void {
  const log = new RequestLog({ dir, flushIntervalMs: 1e6 });
  for (let i = 0; i < n; i++) {
    const v = (i + (opts.start ?? 0)) % 20;
    const time = Date.UTC(2026, 0, 1) + (i + (opts.start ?? 0)) * 1000;
    const status = opts.status ?? 200;
    const numeric = new Float32Array(schema.features.map((_, j) => v * (j + 1)));
    const id = `${schema.version}-${i + (opts.start ?? 0)}`;
    log.append(
      {
        time: new Date(time).toISOString(),
        id,
        model: schema.model,
        version: schema.version,
        status,
        inputs: status === 200 ? [Object.fromEntries(schema.features.map((f, j) => [f, numeric[j]]))] : undefined,
        outputs: status === 200 ? [{ label: 'x', probabilities: { x: 0.7, y: 0.3 } }] : undefined,
        latency_ms: 1 + (i % 5),
        run: schema.runId,
      },
      status === 200
        ? {
            time,
            id,
            status,
            latencyMs: 1 + (i % 5),
            schema,
            rows: 1,
            numeric,
            probabilities: new Float32Array([0.7, 0.3]),
            classIndex: new Int32Array([0]),
          }
        : { time, id, status, latencyMs: 1, schema, rows: 0 },
    );
  }
  log.close();
}

function files(dir: string, ext: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => join(dir, f));
}

const temp = () => mkdtempSync(join(tmpdir(), 'mlloop-monitor-bad-'));

test('an empty window (no log at all, or an empty folder) is reported, no drift, no crash', async () => {
  const dir = temp();
  const r = await monitorDeployment({ logDir: dir, reference: reference() });
  assert.equal(r.window.requests, 0);
  assert.equal(r.drift, false);
  assert.ok(r.issues.some((i) => i.kind === 'empty-window'));
  assert.ok(r.features.every((f) => f.count === 0 && !f.drifted));
  const missing = await monitorDeployment({ logDir: join(dir, 'nope'), reference: reference() });
  assert.ok(missing.issues.some((i) => i.kind === 'empty-window'));
  rmSync(dir, { recursive: true });
});

test('columnar log: a truncated last record (a crash mid-write) and garbage in the middle are skipped and reported', async () => {
  const dir = temp();
  writeLog(dir, 100);
  const [cols] = files(dir, '.cols');
  const good = await monitorDeployment({ logDir: dir, reference: reference(), window: 0 });
  assert.equal(good.window.requests, 100);
  assert.equal(good.reader, 'columnar');
  assert.deepEqual(good.issues, []);
  assert.equal(good.dataset.drift, false, 'the same distribution as the reference');
  // Truncate in the middle of the last record.
  truncateSync(cols, statSync(cols).size - 10);
  // Overwrite bytes inside an early record.
  const buf = readFileSync(cols);
  buf.fill(0xab, 400, 440);
  writeFileSync(cols, buf);
  const r = await monitorDeployment({ logDir: dir, reference: reference(), window: 0 });
  assert.ok(
    r.issues.some((i) => i.kind === 'corrupt-line'),
    JSON.stringify(r.issues),
  );
  assert.ok(r.window.requests >= 95 && r.window.requests < 100, `${r.window.requests} requests read`);
  rmSync(dir, { recursive: true });
});

test('JSON Lines log: a truncated line and a corrupt line are skipped and reported with file:line', async () => {
  const dir = temp();
  writeLog(dir, 50);
  for (const f of files(dir, '.cols')) rmSync(f);
  const [jsonl] = files(dir, '.jsonl');
  appendFileSync(jsonl, 'not json at all\n{"time":"2026-01-01T00:10:00.000Z","id":"t","model":"m","vers');
  const r = await monitorDeployment({ logDir: dir, reference: reference(), window: 0 });
  assert.equal(r.reader, 'jsonl');
  assert.equal(r.window.requests, 50);
  const corrupt = r.issues.find((i) => i.kind === 'corrupt-line');
  assert.equal(corrupt?.count, 2);
  assert.match(corrupt!.examples![0], /requests-.*\.jsonl:5[12]/);
  rmSync(dir, { recursive: true });
});

test('records of another model version with other inputs are skipped and reported; the window counts the monitored version', async () => {
  for (const columnar of [true, false]) {
    const dir = temp();
    writeLog(dir, 30, SCHEMA);
    writeLog(dir, 20, OTHER, { start: 30 });
    if (!columnar) for (const f of files(dir, '.cols')) rmSync(f);
    // Default target: the newest request's version (2), whose inputs do not fit the reference of version 1.
    const newest = await monitorDeployment({ logDir: dir, reference: reference(), window: 0 });
    assert.equal(newest.version, '2');
    assert.ok(
      newest.issues.some((i) => i.kind === 'other-version' && i.count === 30),
      JSON.stringify(newest.issues),
    );
    assert.ok(
      newest.issues.some((i) => i.kind === 'bad-inputs'),
      JSON.stringify(newest.issues),
    );
    assert.equal(newest.window.rows, 0);
    // Version 1 asked for: its 30 requests, version 2's skipped.
    const v1 = await monitorDeployment({ logDir: dir, reference: reference(), window: 0, model: 'm', version: '1' });
    assert.equal(v1.window.requests, 30);
    assert.equal(v1.window.rows, 30);
    assert.ok(v1.issues.some((i) => i.kind === 'other-version' && i.count === 20));
    rmSync(dir, { recursive: true });
  }
});

test('feedback: labels join by request id; unknown ids and bad lines are reported; failed requests count as errors only', async () => {
  const dir = temp();
  writeLog(dir, 40);
  writeLog(dir, 10, SCHEMA, { status: 400, start: 40 });
  const fb = [
    ...Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ time: '2026-01-01T01:00:00Z', id: `1-${i}`, label: i < 15 ? 'x' : 'y' }),
    ),
    JSON.stringify({ time: '2026-01-01T01:00:00Z', id: 'ghost', label: 'x' }),
    '{"broken',
    JSON.stringify({ time: '2026-01-01T01:00:00Z', id: '1-39' }),
  ];
  writeFileSync(join(dir, 'feedback-20260101T010000-000Z.jsonl'), fb.join('\n') + '\n');
  const r = await monitorDeployment({ logDir: dir, reference: reference(), window: 0 });
  assert.equal(r.window.requests, 50);
  assert.equal(r.window.rows, 40);
  assert.equal(r.operational.errors, 10);
  close(r.operational.errorRate, 0.2);
  // Every request predicted "x": 15 of the 20 labelled are right.
  assert.equal(r.live?.labelled, 20);
  close(r.live!.value, 0.75);
  close(r.live!.change!, 0.75 - 0.9);
  // CBPE: the mean top probability, 0.7, marked as an estimate.
  close(r.estimated!.value, 0.7);
  assert.equal(r.estimated!.estimate, true);
  assert.equal(r.issues.find((i) => i.kind === 'unknown-feedback')?.count, 1);
  assert.equal(r.issues.find((i) => i.kind === 'bad-feedback')?.count, 2);
  assert.equal(r.issues.find((i) => i.kind === 'failed-requests')?.count, 10);
  // Prediction drift: all "x" against a 50/50 dev distribution.
  assert.equal(r.prediction?.drifted, true);
  assert.equal(r.drift, true);
  // The window of the last 10 requests: only the failed ones.
  const last = await monitorDeployment({ logDir: dir, reference: reference(), window: 10 });
  assert.equal(last.window.requests, 10);
  assert.equal(last.window.rows, 0);
  assert.ok(last.issues.some((i) => i.kind === 'empty-window'));
  rmSync(dir, { recursive: true });
});

function close(a: number, b: number, tol = 1e-6): void {
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
}

test('windows: the last N requests across rotated files, or the requests since a time; time series cover the window', async () => {
  const dir = temp();
  // Two writer sessions: the 120 requests are in two file pairs, the window spans both.
  writeLog(dir, 60);
  writeLog(dir, 60, SCHEMA, { start: 60 });
  const last = await monitorDeployment({ logDir: dir, reference: reference(), window: 75 });
  assert.equal(last.window.requests, 75);
  assert.equal(last.window.from, new Date(Date.UTC(2026, 0, 1) + 45 * 1000).toISOString());
  assert.equal(last.window.to, new Date(Date.UTC(2026, 0, 1) + 119 * 1000).toISOString());
  const since = await monitorDeployment({
    logDir: dir,
    reference: reference(),
    since: new Date(Date.UTC(2026, 0, 1) + 100 * 1000),
  });
  assert.equal(since.window.kind, 'time');
  assert.equal(since.window.requests, 20);
  const total = since.operational.series.reduce((a, p) => a + p.requests, 0);
  assert.equal(total, 20);
  // Latencies of 1–5 ms, read back from log-scale bins 12 % wide.
  assert.ok(
    since.operational.series.every((p) => p.p50 >= 0.9 && p.p50 <= 5.5),
    JSON.stringify(since.operational.series),
  );
  rmSync(dir, { recursive: true });
});
