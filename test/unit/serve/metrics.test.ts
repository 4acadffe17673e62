// The server's metrics kept as plain numbers (src/core/serve/metrics.ts) read on /metrics exactly as
// prom-client's own Histogram and Counter would give the same observations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { ServerMetrics } from '../../../src/core/serve/metrics';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The lines of one metric family (its HELP, TYPE and samples) in a registry's text; samples sorted (series order has no meaning). */
function family(text: string, name: string): string[] {
  const lines = text.split('\n');
  const head = lines.filter((l) => l.startsWith(`# HELP ${name} `) || l.startsWith(`# TYPE ${name} `));
  const samples = lines.filter((l) => l.startsWith(name));
  return [...head, ...samples.sort()];
}

test('plain histograms and the request counter read as prom-client’s own metrics with the same observations', async () => {
  const ours = new ServerMetrics(false);
  const reference = new Registry();
  const histogram = new Histogram({
    name: 'mlloop_inference_request_seconds',
    help: 'Total time from the request being read to the response being written',
    labelNames: ['model', 'version'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [reference],
  });
  const counter = new Counter({
    name: 'mlloop_inference_requests_total',
    help: 'Inference requests by model, version and HTTP status',
    labelNames: ['model', 'version', 'status'] as const,
    registers: [reference],
  });
  // Values on bucket bounds, between them, past the last one, and two label sets.
  const observations: Array<[string, string, number]> = [
    ['a', '1', 0.0001],
    ['a', '1', 0.0003],
    ['a', '1', 0.001],
    ['a', '1', 7],
    ['b', '2', 0.02],
    ['a', '1', 0],
  ];
  for (const [model, version, seconds] of observations) {
    const s = ours.version(model, version);
    s.total.observe(seconds);
    s.ok++;
    histogram.observe({ model, version }, seconds);
    counter.inc({ model, version, status: '200' });
  }
  ours.requests.inc({ model: 'a', version: '1', status: '400' });
  counter.inc({ model: 'a', version: '1', status: '400' });
  const text = await ours.registry.metrics();
  const expected = await reference.metrics();
  for (const name of ['mlloop_inference_request_seconds', 'mlloop_inference_requests_total'])
    assert.deepEqual(family(text, name), family(expected, name));
  // Reading again does not count the requests twice; later requests are added.
  ours.version('a', '1').ok++;
  counter.inc({ model: 'a', version: '1', status: '200' });
  assert.deepEqual(
    family(await ours.registry.metrics(), 'mlloop_inference_requests_total'),
    family(await reference.metrics(), 'mlloop_inference_requests_total'),
  );
  assert.match(text, /mlloop_inference_request_seconds_bucket\{le="0.0005",model="a",version="1"\} 3\n/);
});
