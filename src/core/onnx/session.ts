// How ML Loop opens every ONNX Runtime session (evaluation and analysis, embeddings, scripts' models,
// the inference server and its workers): one set of options, one intra-op thread per session.
//
// Why one thread: on the server it gave the better p50/p99 for small models (performance-facts.md).
// For large batches (GBDT models, issue 21), with an intra-op thread per core ONNX Runtime's tree
// ensemble splits the trees between its threads, not the rows, and meets at a barrier every 128 rows:
// measured here, 1.1-1.15× the CPU time of one thread for a binary model on 1,000,000 rows and 1.55×
// for 10 classes on 300,000 rows even with spinning off, 1.8× with its idle threads spinning (the
// default) on a busy machine; and each thread sums its share of the trees apart, so the scores differ
// in their last bits from the in-process predictor's (one sum in tree order). Where rows are many, the
// parallelism comes from sessions side by side on slices of the rows (the server's WorkerPool), which
// keeps the in-process predictor's bits.
import * as ort from 'onnxruntime-node';

export interface OrtThreadOptions {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
}

export function sessionOptions(threads: OrtThreadOptions = {}): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads.intraOpNumThreads ?? 1,
    interOpNumThreads: threads.interOpNumThreads ?? 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
}

/** A session of a model file or of its bytes, with `sessionOptions()`. */
export function openSession(model: string | Uint8Array): Promise<ort.InferenceSession> {
  // Two calls: onnxruntime's create() has an overload per input type, none for the union.
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, sessionOptions())
    : ort.InferenceSession.create(model, sessionOptions());
}
