// Prometheus metrics through prom-client, on a registry of the server's own (not the global one, so
// several servers in one process — tests — keep separate counts).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'mlloop_inference_requests_total',
    help: 'Inference requests by model, version and HTTP status',
    labelNames: ['model', 'version', 'status'] as const,
    registers: [this.registry],
  });
  readonly queueSeconds = this.histogram(
    'mlloop_inference_queue_seconds',
    'Time a request waited for its batch to run',
    LATENCY_BUCKETS,
  );
  readonly inferenceSeconds = this.histogram(
    'mlloop_inference_compute_seconds',
    'Time of each session.run (one per batch of requests)',
    LATENCY_BUCKETS,
  );
  readonly totalSeconds = this.histogram(
    'mlloop_inference_request_seconds',
    'Total time from the request being read to the response being written',
    LATENCY_BUCKETS,
  );
  readonly batchRows = this.histogram(
    'mlloop_inference_batch_rows',
    'Rows per session.run',
    [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
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

  private histogram(name: string, help: string, buckets: number[]): Histogram<'model' | 'version'> {
    return new Histogram({
      name,
      help,
      labelNames: ['model', 'version'] as const,
      buckets,
      registers: [this.registry],
    });
  }
}
