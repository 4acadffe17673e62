// One inference request on its way through the server, whatever its transport (REST in ./server.ts,
// gRPC in ./grpc.ts): what begin/execute/end of InferenceServer fill in, and what the log records.
import type * as ort from 'onnxruntime-node';
import type { Outputs } from './engine';
import type { SentImage } from './images';
import type { InferRequest } from './infer';
import type { ServedVersion } from './model';

/** One inference request on its way through the server, whatever its transport (REST, gRPC). */
export interface Exchange {
  v: ServedVersion;
  t0: number;
  action: 'infer' | 'predict';
  /** 200, or the error status sent. */
  status: number;
  queueMs: number;
  rows: number;
  /** The JSON the client sent (logged inputs). */
  parsed?: unknown;
  request?: InferRequest;
  feeds?: Record<string, ort.Tensor>;
  outputs?: Outputs;
  /** The outputs as the record logs them, when the transport already built them (/predict's predictions). */
  loggedOutputs?: unknown;
  /** The JSON /infer response sent (its outputs' data are logged as they are). */
  response?: Record<string, unknown>;
  /** The images the client sent as files. */
  images?: SentImage[];
  /** /predict got one image as the body. */
  rawImageBody?: boolean;
  logId?: string;
}
