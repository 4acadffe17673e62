// Shared fixtures of the script-experiment tests: an iris project in a temp folder whose experiments
// run small Node scripts (process.execPath: fast, no Python needed), and ONNX models built with
// OnnxGraphBuilder for those scripts to hand back as their model.onnx.
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxGraphBuilder, type ElemType } from '../../../src/core/onnx/builder';
import { IRIS_CSV } from '../../datasets';

export const IRIS_FEATURES = 4;
export const IRIS_CLASSES = 3;

export function irisProject(experiments: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-script-'));
  copyFileSync(IRIS_CSV, join(dir, 'iris.csv'));
  writeFileSync(
    join(dir, 'mlloop.json'),
    JSON.stringify(
      {
        name: 'iris',
        task: 'classification',
        data: { path: 'iris.csv', target: 'species', split: { dev: 0.2, test: 0.2, seed: 1 } },
        metric: 'accuracy',
        experiments,
      },
      null,
      2,
    ),
  );
  return dir;
}

/** Writes a Node script into the project and returns the experiment's command for it. */
export function nodeScript(dir: string, name: string, source: string): string[] {
  writeFileSync(join(dir, name), source);
  return [process.execPath, name];
}

/** The weights of the linear scores the fixture models compute: scores = features · W + b. */
export const W = Float32Array.from([0.2, -0.1, 0.3, 1.0, 0.5, 0.2, -1.5, -0.4, 0.7, -0.9, 0.4, 0.6]); // [4, 3]
export const B = Float32Array.from([0.1, 0.0, -0.2]);

/** A model with `features` float32 [N, inputWidth] → one float output [N, 3] (raw scores, or a softmax of them). */
export function scoresModel(
  opts: {
    inputName?: string;
    inputWidth?: number;
    inputType?: ElemType;
    output?: string;
    softmax?: boolean;
    outputWidth?: number;
  } = {},
): Uint8Array {
  const b = new OnnxGraphBuilder();
  const width = opts.inputWidth ?? IRIS_FEATURES;
  const input = b.addInput(opts.inputName ?? 'features', opts.inputType ?? 'float', ['N', width]);
  const C = opts.outputWidth ?? IRIS_CLASSES;
  const w = b.addInitializer(
    'W',
    Float32Array.from({ length: width * C }, (_, i) => W[i % W.length]),
    [width, C],
  );
  const bias = b.addInitializer(
    'b',
    Float32Array.from({ length: C }, (_, i) => B[i % B.length]),
    [C],
  );
  const x = opts.inputType && opts.inputType !== 'float' ? b.addNode('Cast', [input], 1, { to: 1 })[0] : input;
  const [mm] = b.addNode('MatMul', [x, w]);
  const out = opts.output ?? 'scores';
  if (opts.softmax) {
    const [logits] = b.addNode('Add', [mm, bias]);
    b.addNode('Softmax', [logits], [out], { axis: 1 });
  } else b.addNode('Add', [mm, bias], [out]);
  b.addOutput(out, 'float', ['N', C]);
  return b.build();
}

/** scores = x·W + b for one row (what scoresModel computes), in float64. */
export function fixtureScores(x: ArrayLike<number>): number[] {
  return Array.from({ length: IRIS_CLASSES }, (_, c) => {
    let s = B[c];
    for (let f = 0; f < IRIS_FEATURES; f++) s += x[f] * W[f * IRIS_CLASSES + c];
    return s;
  });
}
