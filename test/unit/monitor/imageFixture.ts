// An image classifier in ONNX with an `embedding` output, for the image monitoring tests: image
// float32 [N, C, H, W] → Flatten → MatMul (seeded weights) → embedding [N, D] → MatMul → Softmax →
// probabilities [N, classes]. Darker inputs give smaller embeddings, so a domain classifier can tell them.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxGraphBuilder } from '../../../src/core/onnx/builder';
import { mulberry32 } from '../../../src/core/data/prng';

export function embeddingImageModel(
  shape: { channels: number; height: number; width: number },
  classes: number,
  dim = 8,
  seed = 7,
): Uint8Array {
  const random = mulberry32(seed);
  const P = shape.channels * shape.height * shape.width;
  const g = new OnnxGraphBuilder('image_with_embedding');
  g.addInput('image', 'float', ['N', shape.channels, shape.height, shape.width]);
  g.addOutput('probabilities', 'float', ['N', classes]);
  g.addOutput('embedding', 'float', ['N', dim]);
  const w1 = g.addInitializer(
    'w1',
    Float32Array.from({ length: P * dim }, () => (random() - 0.5) / Math.sqrt(P)),
    [P, dim],
  );
  const w2 = g.addInitializer(
    'w2',
    Float32Array.from({ length: dim * classes }, () => random() - 0.5),
    [dim, classes],
  );
  const [flat] = g.addNode('Flatten', ['image'], 1, { axis: 1 });
  g.addNode('MatMul', [flat, w1], ['embedding']);
  const [scores] = g.addNode('MatMul', ['embedding', w2]);
  g.addNode('Softmax', [scores], ['probabilities'], { axis: 1 });
  return g.build();
}

/** Writes a request log of image requests (as the server logs them: files under images/, records naming them). */
export function writeImageLog(
  logDir: string,
  runId: string,
  pngs: Buffer[],
  startMs: number,
  label = (_i: number): string => 'a',
  /** The pictures' width and height as sent. */
  size = 16,
): void {
  mkdirSync(join(logDir, 'images'), { recursive: true });
  const lines = pngs.map((png, i) => {
    const sha256 = createHash('sha256').update(png).digest('hex');
    writeFileSync(join(logDir, 'images', `${sha256}.png`), png);
    return JSON.stringify({
      time: new Date(startMs + i * 1000).toISOString(),
      id: `req-${startMs}-${i}`,
      model: 'shop',
      version: '1',
      status: 200,
      outputs: [{ label: label(i), probabilities: { a: 0.5, b: 0.3, c: 0.2 } }],
      latency_ms: 2,
      run: runId,
      images: [
        {
          file: `images/${sha256}.png`,
          sha256,
          format: 'png',
          bytes: png.length,
          width: size,
          height: size,
          channels: 1,
        },
      ],
    });
  });
  writeFileSync(join(logDir, `requests-${startMs}.jsonl`), lines.join('\n') + '\n');
}
