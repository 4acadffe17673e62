// Prometheus metrics through prom-client, on a registry of the server's own (not the global one, so
// several servers in one process — tests — keep separate counts).
//
// The per-request series are plain numbers on the hot path, handed to the registry when /metrics is
// read: prom-client's observe() and inc() cost about 1 µs and 0.5 µs each (label checks and hashing
// per call), about 7 % of a single-row request's CPU at 64 connections (bench:server), where a bucket
// count is a few additions. Requests are counted by prom-client's Counter through its collect() hook;
// histograms are `PlainHistogram`s, which give the registry the same series prom-client's Histogram
// would (cumulative `_bucket` with `le`, `_sum`, `_count`).
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const ROW_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

type VersionLabels = { model: string; version: string };

/** The observations of one label set: per-bucket counts (the last one past every bound), sum and count. */
export class Buckets {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.counts[i]++;
  }
}

/** A histogram registered in a prom-client registry, observed through the `Buckets` of each label set. */
export class PlainHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly all = new Map<string, { labels: VersionLabels; buckets: Buckets }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of a label set, created at its first use (keep it: observing through it is cheap). */
  series(labels: VersionLabels): Buckets {
    const key = `${labels.model}\u0000${labels.version}`;
    let s = this.all.get(key);
    if (!s) this.all.set(key, (s = { labels: { ...labels }, buckets: new Buckets(this.bounds) }));
    return s.buckets;
  }

  /** What prom-client's Histogram.get() gives: per label set, cumulative buckets with `le`, then +Inf, sum and count. */
  async get() {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const { labels, buckets } of this.all.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += buckets.counts[i];
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: buckets.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...labels }, value: buckets.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: buckets.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

/** A version's series, kept by the server so that a request's metrics are a few additions. */
export interface VersionSeries {
  /** Requests answered 200 (the counter gets them when /metrics is read). */
  ok: number;
  queue: Buckets;
  total: Buckets;
  compute: Buckets;
  batchRows: Buckets;
}

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly versions = new Map<string, { labels: VersionLabels; series: VersionSeries; okReported: number }>();
  readonly requests: Counter<'model' | 'version' | 'status'> = new Counter({
    name: 'mlloop_inference_requests_total',
    help: 'Inference requests by model, version and HTTP status',
    labelNames: ['model', 'version', 'status'] as const,
    registers: [this.registry],
    collect: () => {
      for (const v of this.versions.values()) {
        if (v.series.ok === v.okReported) continue;
        this.requests.inc({ ...v.labels, status: '200' }, v.series.ok - v.okReported);
        v.okReported = v.series.ok;
      }
    },
  });
  readonly queueSeconds = new PlainHistogram(
    'mlloop_inference_queue_seconds',
    'Time a request waited for its batch to run',
    LATENCY_BUCKETS,
    this.registry,
  );
  readonly inferenceSeconds = new PlainHistogram(
    'mlloop_inference_compute_seconds',
    'Time of each session.run (one per batch of requests)',
    LATENCY_BUCKETS,
    this.registry,
  );
  readonly totalSeconds = new PlainHistogram(
    'mlloop_inference_request_seconds',
    'Total time from the request being read to the response being written',
    LATENCY_BUCKETS,
    this.registry,
  );
  readonly batchRows = new PlainHistogram(
    'mlloop_inference_batch_rows',
    'Rows per session.run',
    ROW_BUCKETS,
    this.registry,
  );
  readonly loadedModels = new Gauge({
    name: 'mlloop_loaded_model_versions',
    help: 'Model versions loaded and serving',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  constructor(processMetrics = true) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** The series of a model version (the same object for the same model and version). */
  version(model: string, version: string): VersionSeries {
    const key = `${model}\u0000${version}`;
    let v = this.versions.get(key);
    if (!v) {
      const labels = { model, version };
      v = {
        labels,
        okReported: 0,
        series: {
          ok: 0,
          queue: this.queueSeconds.series(labels),
          total: this.totalSeconds.series(labels),
          compute: this.inferenceSeconds.series(labels),
          batchRows: this.batchRows.series(labels),
        },
      };
      this.versions.set(key, v);
    }
    return v.series;
  }
}
