// The trained tree ensemble: predictions on preprocessed rows, and its ONNX form as one
// ai.onnx.ml TreeEnsembleRegressor (SUM of leaf values per score column, plus base values)
// followed by Softmax for classification (binary: the ensemble's one logit f, then [0, f]).
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
import { argmaxRows } from '../../onnx/argmax';
import { appendClassifierOutputsFromLogits, appendRegressionOutput, softmaxRowsInPlace } from '../outputs';
import type { ModelCore } from '../pipeline';
import type { Prediction } from '../types';
import { forestScores, packForest, type ForestOptions, type PackedForest } from './forest';
import { leafOf, treeDepth, type Tree } from './tree';

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

  /** The trees packed for the WebAssembly kernel (made on first use). */
  private packed: PackedForest | undefined;

  /**
   * Raw scores (n × nTargets, float32), as TreeEnsembleRegressor computes them: by the WebAssembly
   * kernel (gbdt/forest.ts, two threads for large inputs), or by the JavaScript reference where the
   * runtime lacks it. Both give the same bits.
   */
  scores(X: Float32Array, n: number, options?: ForestOptions): Float32Array {
    this.packed ??= packForest(this.trees, this.treeTarget, this.base);
    return forestScores(this.packed, this.nFeatures, X, n, options) ?? this.scoresReference(X, n);
  }

  /** The JavaScript twin of the kernel (kernels/forest.wat): the fallback, and the reference it is tested against. */
  scoresReference(X: Float32Array, n: number): Float32Array {
    const k = this.nTargets;
    const out = new Float32Array(n * k);
    const { trees, treeTarget } = this;
    // Blocks of rows (kept in cache), within a block tree by tree, four rows at a time: each row's
    // walk is a chain of dependent loads, so four independent walks overlap (each row's sum still
    // takes the trees in order: the float32 result is the same as row by row). The walks are
    // branch-free on walkable copies of the trees (leaves loop to themselves), a fixed number of
    // steps (the tree's depth).
    const walks = trees.map(walkable);
    const BLOCK = 64;
    for (let start = 0; start < n; start += BLOCK) {
      const end = Math.min(n, start + BLOCK);
      for (let t = 0; t < trees.length; t++) {
        this.walkRows(walks[t], trees[t], treeTarget[t], X, start, end, out);
      }
    }
    for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) out[i * k + c] = Math.fround(out[i * k + c] + this.base[c]);
    return out;
  }

  /** Adds the leaf values of one tree for rows [start, end) to their score column `target`. */
  private walkRows(
    w: WalkableTree,
    tree: Tree,
    target: number,
    X: Float32Array,
    start: number,
    end: number,
    out: Float32Array,
  ): void {
    const k = this.nTargets;
    const d = this.nFeatures;
    const { feature, threshold, missingLeft, left, right, depth } = w;
    const value = tree.value;
    let i = start;
    for (; i + 4 <= end; i += 4) {
      const o0 = i * d;
      const o1 = o0 + d;
      const o2 = o1 + d;
      const o3 = o2 + d;
      let n0 = 0;
      let n1 = 0;
      let n2 = 0;
      let n3 = 0;
      for (let step = 0; step < depth; step++) {
        const x0 = X[o0 + feature[n0]];
        const x1 = X[o1 + feature[n1]];
        const x2 = X[o2 + feature[n2]];
        const x3 = X[o3 + feature[n3]];
        const l0 = +(x0 <= threshold[n0]) | (+(x0 !== x0) & missingLeft[n0]);
        const l1 = +(x1 <= threshold[n1]) | (+(x1 !== x1) & missingLeft[n1]);
        const l2 = +(x2 <= threshold[n2]) | (+(x2 !== x2) & missingLeft[n2]);
        const l3 = +(x3 <= threshold[n3]) | (+(x3 !== x3) & missingLeft[n3]);
        n0 = right[n0] + l0 * (left[n0] - right[n0]);
        n1 = right[n1] + l1 * (left[n1] - right[n1]);
        n2 = right[n2] + l2 * (left[n2] - right[n2]);
        n3 = right[n3] + l3 * (left[n3] - right[n3]);
      }
      out[i * k + target] = Math.fround(out[i * k + target] + value[n0]);
      out[(i + 1) * k + target] = Math.fround(out[(i + 1) * k + target] + value[n1]);
      out[(i + 2) * k + target] = Math.fround(out[(i + 2) * k + target] + value[n2]);
      out[(i + 3) * k + target] = Math.fround(out[(i + 3) * k + target] + value[n3]);
    }
    for (; i < end; i++) out[i * k + target] = Math.fround(out[i * k + target] + value[leafOf(tree, X, i * d)]);
  }

  predictDense(X: Float32Array, n: number): Prediction {
    return this.predictionOf(this.scores(X, n), n);
  }

  /** The prediction of n rows from their raw scores as scores() gives them (classification: in place). */
  predictionOf(s: Float32Array, n: number): Prediction {
    if (this.task === 'regression') return { values: s };
    const k = this.nTargets;
    softmaxRowsInPlace(s, n, k);
    return { probabilities: s, classIndex: argmaxRows(s, n, k) };
  }

  appendOnnx(b: OnnxGraphBuilder, dense: string, schema: FeatureSchema): void {
    if (this.task === 'regression') {
      const [scores] = b.addNode('TreeEnsembleRegressor', [dense], 1, this.ensembleAttributes(), 'ai.onnx.ml');
      return appendRegressionOutput(b, scores);
    }
    let logits: string;
    if (this.isBinary()) {
      // The ensemble computes the one logit f, then [0, f] for the Softmax: a single target takes
      // ONNX Runtime's path without a vector of scores per row (about 6% less CPU time measured
      // here on 1,000,000 rows).
      const [f] = b.addNode('TreeEnsembleRegressor', [dense], 1, this.ensembleAttributes(1), 'ai.onnx.ml');
      const [shape] = b.addNode('Shape', [f]);
      // ConstantOfShape without a value: float32 zeros.
      const [zeros] = b.addNode('ConstantOfShape', [shape]);
      [logits] = b.addNode('Concat', [zeros, f], 1, { axis: 1 });
    } else {
      [logits] = b.addNode('TreeEnsembleRegressor', [dense], 1, this.ensembleAttributes(), 'ai.onnx.ml');
    }
    appendClassifierOutputsFromLogits(b, logits, schema.classes ?? []);
  }

  /** Binary classification: score column 0 is the constant 0 (no tree, base 0), column 1 the logit. */
  private isBinary(): boolean {
    return this.nTargets === 2 && this.base[0] === 0 && this.treeTarget.every((t) => t === 1);
  }

  /** The TreeEnsembleRegressor's attributes; with `singleColumn` (every tree adds to it), one target with that column's base value. */
  private ensembleAttributes(
    singleColumn?: number,
  ): Record<string, string | { ints: number[] } | { floats: number[] } | string[] | number> {
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
          targetIds.push(singleColumn === undefined ? this.treeTarget[t] : 0);
          targetWeights.push(tree.value[node]);
        }
      }
    });
    return {
      n_targets: singleColumn === undefined ? this.nTargets : 1,
      aggregate_function: 'SUM',
      post_transform: 'NONE',
      base_values: { floats: singleColumn === undefined ? Array.from(this.base) : [this.base[singleColumn]] },
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

/** A tree whose leaves loop to themselves (feature 0, both children the leaf): walking it `depth` steps from the root ends on the row's leaf. */
interface WalkableTree {
  feature: Int32Array;
  threshold: Float32Array;
  missingLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  depth: number;
}

const walkables = new WeakMap<Tree, WalkableTree>();

function walkable(tree: Tree): WalkableTree {
  let w = walkables.get(tree);
  if (w) return w;
  const feature = Int32Array.from(tree.feature, (f) => Math.max(f, 0));
  const left = tree.left.slice();
  const right = tree.right.slice();
  for (let node = 0; node < tree.feature.length; node++) {
    if (tree.feature[node] < 0) {
      left[node] = node;
      right[node] = node;
    }
  }
  w = { feature, threshold: tree.threshold, missingLeft: tree.missingLeft, left, right, depth: treeDepth(tree) };
  walkables.set(tree, w);
  return w;
}
