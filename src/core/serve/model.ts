// One loaded version of a model: its ONNX Runtime session, its OIP metadata, ML Loop's metadata_props
// when it has them, a warm-up run, and a count of in-flight requests so an unload waits for them.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { readMetadata } from '../onnx/builder';
import { sessionOptions, type OrtThreadOptions } from '../onnx/session';
import { readImageMetadata, type ImagePreprocessing } from '../data/images/modelMetadata';
import { OIP_TO_ORT, oipDatatypeOf, type OipDatatype } from './datatypes';
import { autoWorkers, InThreadEngine, WorkerPool, type InferenceEngine, type WorkersOption } from './engine';

export interface TensorMetadata {
  name: string;
  datatype: OipDatatype;
  /** -1 for a dynamic dimension. */
  shape: number[];
}

/**
 * ML Loop's model contract (src/core/train/pipeline.ts modelMetadata) when metadata_props carry it.
 * An image model (metadata of src/core/data/images/modelMetadata.ts) has no features.
 */
export interface MlLoopContract {
  task: string;
  features: string[];
  categories: string[];
  classes?: string[];
  runId?: string;
}

export interface VersionSource {
  path: string;
  runId?: string;
}

export class ServedVersion {
  inflight = 0;
  private drained: (() => void) | undefined;
  readonly loadedAt = Date.now();
  /** Fastest of five single-row runs after warm-up (ms; the least disturbed by a busy machine); undefined when the warm-up input does not run. */
  singleRowMs: number | undefined;
  /** Where runs happen: this thread, or a worker pool (set by load). */
  engine!: InferenceEngine;

  private constructor(
    readonly model: string,
    readonly version: string,
    readonly source: VersionSource,
    readonly session: ort.InferenceSession,
    readonly inputs: TensorMetadata[],
    readonly outputs: TensorMetadata[],
    readonly contract: MlLoopContract | undefined,
    /** How an image becomes the model's input, when its metadata says (image models). */
    readonly image: ImagePreprocessing | undefined,
  ) {}

  static async load(
    model: string,
    version: string,
    source: VersionSource,
    threads: OrtThreadOptions = {},
    workers: WorkersOption = 'auto',
  ): Promise<ServedVersion> {
    const bytes = readFileSync(source.path);
    const options = sessionOptions(threads);
    const session = await ort.InferenceSession.create(bytes, options);
    const describe = (m: readonly ort.InferenceSession.ValueMetadata[], kind: string): TensorMetadata[] =>
      m.map((v) => {
        if (!v.isTensor)
          throw new Error(`${kind} "${v.name}" of ${source.path} is not a tensor (sequences and maps are not served)`);
        const datatype = oipDatatypeOf(v.type);
        if (!datatype)
          throw new Error(
            `${kind} "${v.name}" of ${source.path} has type ${v.type}, which the inference protocol has no datatype for`,
          );
        return { name: v.name, datatype, shape: v.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
      });
    let contract: MlLoopContract | undefined;
    let meta: Record<string, string> = {};
    try {
      meta = readMetadata(bytes);
    } catch {
      // Not readable as ONNX by this schema: the session above loaded it, it is served without metadata.
    }
    let image: ImagePreprocessing | undefined;
    try {
      image = readImageMetadata(meta);
      if (image && !session.inputNames.includes(image.input))
        throw new Error(`its image metadata names input "${image.input}", which the model does not have`);
    } catch (e) {
      await session.release();
      throw new Error(`${source.path}: ${(e as Error).message}`);
    }
    try {
      if ((meta.features || image) && meta.task) {
        contract = {
          task: meta.task,
          features: meta.features ? (JSON.parse(meta.features) as string[]) : [],
          categories: meta.categories ? (JSON.parse(meta.categories) as string[]) : [],
          classes: meta.classes ? (JSON.parse(meta.classes) as string[]) : undefined,
          runId: meta.run_id || source.runId,
        };
      }
    } catch {
      // Not ML Loop metadata: the model is still served over the standard protocol.
    }
    const v = new ServedVersion(
      model,
      version,
      { ...source, runId: source.runId ?? contract?.runId },
      session,
      describe(session.inputMetadata, 'input'),
      describe(session.outputMetadata, 'output'),
      contract,
      image,
    );
    await v.warm();
    const size = workers === 'auto' ? autoWorkers(v.singleRowMs) : workers;
    try {
      v.engine = size > 0 ? await WorkerPool.start(bytes, options, size, v.zeroFeeds()) : new InThreadEngine(session);
    } catch (e) {
      await session.release();
      throw e;
    }
    return v;
  }

  /** Whether requests can be stacked along the first dimension (every input and output has a dynamic first dim). */
  get batchable(): boolean {
    return [...this.inputs, ...this.outputs].every((t) => t.shape.length > 0 && t.shape[0] === -1);
  }

  /**
   * Runs on zeros/empty strings so the first real request does not pay the allocation and kernel set-up,
   * and times single-row runs (what `--workers auto` decides on).
   */
  async warm(): Promise<void> {
    const feeds = this.zeroFeeds();
    try {
      await this.session.run(feeds);
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await this.session.run(feeds);
        times.push(performance.now() - t0);
      }
      this.singleRowMs = Math.min(...times);
    } catch {
      // A model may reject zeros (e.g. an index input); warming is only an optimisation.
    }
  }

  /** One row (1 for each dynamic dimension) of zeros or empty strings for every input. */
  zeroFeeds(): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of this.inputs) {
      const dims = t.shape.map((d) => (d < 0 ? 1 : d));
      const n = dims.reduce((a, b) => a * b, 1);
      const type = OIP_TO_ORT[t.datatype];
      feeds[t.name] =
        type === 'string'
          ? new ort.Tensor('string', new Array<string>(n).fill(''), dims)
          : new ort.Tensor(type as 'float32', new TYPED[type](n) as Float32Array, dims);
    }
    return feeds;
  }

  acquire(): void {
    this.inflight++;
  }

  release(): void {
    this.inflight--;
    if (this.inflight === 0 && this.drained) this.drained();
  }

  /** Waits for in-flight requests to finish, then frees the session. */
  async unload(): Promise<void> {
    if (this.inflight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.engine?.close();
    await this.session.release();
  }
}

const TYPED: Record<string, new (n: number) => ArrayLike<unknown>> = {
  bool: Uint8Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  float16: Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
};
