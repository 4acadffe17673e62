// The trained tree ensemble: predictions on preprocessed rows, and its ONNX form as one
// ai.onnx.ml TreeEnsembleRegressor (SUM of leaf values per score column, plus base values)
// followed by Softmax for classification.
//
// Why TreeEnsembleRegressor for classification too: with TreeEnsembleClassifier, ONNX Runtime
// treats the binary case specially (one score column expanded to two, post_transform applied
// differently), whereas raw scores + Softmax give [1 - σ(f), σ(f)] for binary from the two
// columns [0, f] and the usual softmax for multi-class, with the same float32 ops in JS.
//
// predictDense reproduces ONNX Runtime's arithmetic: float32 thresholds compared to float32
// inputs (BRANCH_LEQ, NaN following nodes_missing_value_tracks_true), leaf values summed in float32
// in tree order, the base value added last.

import type { FeatureSchema } from '../../data/types';
import type { OnnxGraphBuilder } from '../../onnx/builder';
import { appendClassifierOutputsFromLogits, appendRegressionOutput, argmaxRows, softmaxRowsInPlace } from '../outputs';
import type { ModelCore } from '../pipeline';
import type { Prediction } from '../types';
import { leafOf, type Tree } from './tree';

export class GbdtCore implements ModelCore {
  constructor(
    readonly task: 'regression' | 'classification',
    /** Preprocessed (dense) columns the trees read. */
    readonly nFeatures: number,
    readonly trees: Tree[],
    /** Score column each tree adds to. */
    readonly treeTarget: Int32Array,
    /** float32 base value of each score column (regression: 1; classification: one per class). */
    readonly base: Float32Array,
  ) {}

  get nTargets(): number {
    return this.base.length;
  }

  /** Raw scores (n × nTargets, float32), as TreeEnsembleRegressor computes them. */
  scores(X: Float32Array, n: number): Float32Array {
    const k = this.nTargets;
    const d = this.nFeatures;
    const out = new Float32Array(n * k);
    const { trees, treeTarget } = this;
    for (let i = 0; i < n; i++) {
      const row = i * k;
      for (let t = 0; t < trees.length; t++) {
        const leaf = leafOf(trees[t], X, i * d);
        out[row + treeTarget[t]] = Math.fround(out[row + treeTarget[t]] + trees[t].value[leaf]);
      }
      for (let c = 0; c < k; c++) out[row + c] = Math.fround(out[row + c] + this.base[c]);
    }
    return out;
  }

  predictDense(X: Float32Array, n: number): Prediction {
    const s = this.scores(X, n);
    if (this.task === 'regression') return { values: s };
    const k = this.nTargets;
    softmaxRowsInPlace(s, n, k);
    return { probabilities: s, classIndex: argmaxRows(s, n, k) };
  }

  appendOnnx(b: OnnxGraphBuilder, dense: string, schema: FeatureSchema): void {
    const a = this.ensembleAttributes();
    const [scores] = b.addNode('TreeEnsembleRegressor', [dense], 1, a, 'ai.onnx.ml');
    if (this.task === 'regression') appendRegressionOutput(b, scores);
    else appendClassifierOutputsFromLogits(b, scores, schema.classes ?? []);
  }

  private ensembleAttributes(): Record<string, string | { ints: number[] } | { floats: number[] } | string[] | number> {
    const treeIds: number[] = [];
    const nodeIds: number[] = [];
    const featureIds: number[] = [];
    const values: number[] = [];
    const modes: string[] = [];
    const trueIds: number[] = [];
    const falseIds: number[] = [];
    const missingTrue: number[] = [];
    const targetTree: number[] = [];
    const targetNode: number[] = [];
    const targetIds: number[] = [];
    const targetWeights: number[] = [];
    this.trees.forEach((tree, t) => {
      for (let node = 0; node < tree.feature.length; node++) {
        treeIds.push(t);
        nodeIds.push(node);
        const leaf = tree.feature[node] < 0;
        featureIds.push(leaf ? 0 : tree.feature[node]);
        values.push(leaf ? 0 : tree.threshold[node]);
        modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
        trueIds.push(leaf ? 0 : tree.left[node]);
        falseIds.push(leaf ? 0 : tree.right[node]);
        missingTrue.push(leaf ? 0 : tree.missingLeft[node]);
        if (leaf) {
          targetTree.push(t);
          targetNode.push(node);
          targetIds.push(this.treeTarget[t]);
          targetWeights.push(tree.value[node]);
        }
      }
    });
    return {
      n_targets: this.nTargets,
      aggregate_function: 'SUM',
      post_transform: 'NONE',
      base_values: { floats: Array.from(this.base) },
      nodes_treeids: { ints: treeIds },
      nodes_nodeids: { ints: nodeIds },
      nodes_featureids: { ints: featureIds },
      nodes_values: { floats: values },
      nodes_modes: modes,
      nodes_truenodeids: { ints: trueIds },
      nodes_falsenodeids: { ints: falseIds },
      nodes_missing_value_tracks_true: { ints: missingTrue },
      target_treeids: { ints: targetTree },
      target_nodeids: { ints: targetNode },
      target_ids: { ints: targetIds },
      target_weights: { floats: targetWeights },
    };
  }
}
