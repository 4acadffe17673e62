// An image classifier in ONNX with an `embedding` output, for the image monitoring tests: image
// float32 [N, C, H, W] → Flatten → MatMul (seeded weights) → embedding [N, D] → MatMul → Softmax →
// probabilities [N, classes]. Darker inputs give smaller embeddings, so a domain classifier can tell them.
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
