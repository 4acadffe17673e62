// Decoding on both cores: the headers and pixels of many images are read by worker threads
// (src/worker/images.ts), each running sharp and the properties for its share of the files; the
// calling thread only hands out chunks and copies the results in. Small jobs, and bundles without
// the worker entry, decode in the calling thread (the same code, runDecodeJob).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerScript, type WorkerSource } from '../../runtime/worker';
import type { InfoEntry } from './imageCache';
import {
  ImageDecodeError,
  preprocessImage,
  readImageInfo,
  type ImageSettings,
  type SourceImageInfo,
} from './preprocess';
import { imageProperties, PROPERTY_NAMES } from './properties';

export type DecodeJob =
  | { kind: 'info'; files: string[] }
  | { kind: 'decode'; files: string[]; infos: SourceImageInfo[]; settings: ImageSettings };

export interface DecodeResult {
  /** 'info': per file its header, or why it is not an image. */
  infos?: InfoEntry[];
  /** 'decode': uint8 [n, C, H, W] and float64 [n, PROPERTY_NAMES.length]; `errors[i]` set when file i failed. */
  pixels?: Uint8Array;
  properties?: Float64Array;
  errors?: (string | null)[];
}

/** Files per chunk handed to a worker, and the fewest files worth starting workers for. */
const DEFAULT_CHUNK = 1000;
const DEFAULT_MIN_FOR_WORKERS = 4000;
/** Images a thread decodes at once (sharp queues them on libuv's pool). */
const IN_FLIGHT = 8;

async function forEachLimit<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const one = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, one));
}

const reasonOf = (e: unknown) =>
  e instanceof ImageDecodeError ? e.reason : e instanceof Error ? e.message : String(e);

/** Runs one job in this thread. */
export async function runDecodeJob(job: DecodeJob): Promise<DecodeResult> {
  if (job.kind === 'info') {
    const infos: InfoEntry[] = new Array(job.files.length);
    await forEachLimit(job.files, IN_FLIGHT, async (file, i) => {
      try {
        infos[i] = await readImageInfo(readFileSync(file));
      } catch (e) {
        infos[i] = { error: reasonOf(e) };
      }
    });
    return { infos };
  }
  const { height, width, channels } = job.settings;
  const size = height * width * channels;
  const P = PROPERTY_NAMES.length;
  const pixels = new Uint8Array(job.files.length * size);
  const properties = new Float64Array(job.files.length * P);
  const errors: (string | null)[] = new Array(job.files.length).fill(null);
  await forEachLimit(job.files, IN_FLIGHT, async (file, i) => {
    try {
      const out = await preprocessImage(readFileSync(file), job.settings, job.infos[i]);
      pixels.set(out.pixels, i * size);
      const p = imageProperties(out.pixels, height, width, channels);
      PROPERTY_NAMES.forEach((name, k) => (properties[i * P + k] = p[name]));
    } catch (e) {
      errors[i] = reasonOf(e);
    }
  });
  return { pixels, properties, errors };
}

/**
 * Runs `job` over its files in chunks, on worker threads when there are enough files (one per core),
 * else in this thread; `onChunk(start, result)` receives each chunk's results in any order.
 */
export async function decodeInChunks(
  job: DecodeJob,
  onChunk: (start: number, result: DecodeResult) => void,
  opts: { chunk?: number; minForWorkers?: number } = {},
): Promise<void> {
  const n = job.files.length;
  const CHUNK = opts.chunk ?? DEFAULT_CHUNK;
  const MIN_FOR_WORKERS = opts.minForWorkers ?? DEFAULT_MIN_FOR_WORKERS;
  const chunkOf = (start: number): DecodeJob => {
    const files = job.files.slice(start, start + CHUNK);
    return job.kind === 'info'
      ? { kind: 'info', files }
      : { kind: 'decode', files, infos: job.infos.slice(start, start + CHUNK), settings: job.settings };
  };
  const starts = Array.from({ length: Math.ceil(n / CHUNK) }, (_, k) => k * CHUNK);
  const threads = Math.min(availableParallelism(), starts.length);
  let script: WorkerSource | undefined;
  try {
    script = n >= MIN_FOR_WORKERS && threads > 1 ? workerScript('images') : undefined;
  } catch {
    script = undefined; // a bundle without dist/worker-images.js: decode in the calling thread
  }
  if (!script) {
    for (const start of starts) onChunk(start, await runDecodeJob(chunkOf(start)));
    return;
  }
  const source = script;
  let next = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const worker = new Worker(source.source, { eval: source.eval });
      const give = () => {
        if (next >= starts.length) {
          void worker.terminate().then(() => resolve());
          return;
        }
        const start = starts[next++];
        worker.once('message', (m: { result?: DecodeResult; error?: string }) => {
          if (m.error !== undefined) {
            void worker.terminate();
            reject(new Error(m.error));
            return;
          }
          onChunk(start, m.result!);
          give();
        });
        worker.postMessage(chunkOf(start));
      };
      worker.once('error', reject);
      give();
    });
  await Promise.all(Array.from({ length: threads }, one));
}
