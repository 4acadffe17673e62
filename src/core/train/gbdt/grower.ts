// Leaf-wise growth of one regression tree on binned data, from per-row gradients and hessians.
//
// The data and the hot loops live in the BoostingWorkspace (workspace.ts), which runs each step on
// one or two threads with the same result:
//  - bins: column-major (bins[f * n + row]), and a row-major copy for the histograms of sparse leaves;
//  - rows: every row, each leaf owning a contiguous range [start, end), partitioned stably in place
//    on split (rows stay ascending within a leaf: cache-friendly reads);
//  - histograms: only the smaller child's is built, the sibling's is parent minus smaller child
//    (computed in place in the parent's buffer), and each new leaf's best split is found in the
//    same step.

import type { BinMapper } from './binning';
import { BoostingWorkspace, type BinsSource, type GradientSums, type SplitLeaf } from './workspace';
import { SPLIT_RESULT_SIZE } from './split';
import { TreeBuilder, type Tree } from './tree';

export interface GrowOptions {
  maxLeaves: number;
  /** Infinity for no limit. */
  maxDepth: number;
  minSamplesLeaf: number;
  l2: number;
  learningRate: number;
  /** Threads growing trees and computing gradients (1 or 2); the trees are identical either way. */
  threads?: number;
  /** Scores per row: 1, or the number of classes for softmax (the width of `scores`). */
  scoreColumns?: number;
}

/** Leaves need at least this much hessian: avoids huge leaf values from near-pure leaves (as scikit-learn). */
const MIN_HESSIAN = 1e-3;

interface Leaf {
  node: number;
  start: number;
  end: number;
  depth: number;
  hist: number;
  g: number;
  h: number;
  // Best split (gain <= 0 when none).
  gain: number;
  feature: number;
  bin: number;
  missingLeft: boolean;
  leftG: number;
  leftH: number;
}

export class TreeGrower {
  private readonly workspace: BoostingWorkspace;
  private readonly rows: Uint32Array;
  /** Offset (in bins) of each column's histogram; each column has nBins + 1 bins (the last for missing). */
  private readonly featureOffset: Int32Array;
  /** Histogram slots handed out (by BoostingWorkspace, which holds them) and those free again. */
  private histSlots = 0;
  private freeHists: number[] = [];
  private finalLeaves: Leaf[] = [];

  constructor(
    bins: BinsSource,
    private readonly n: number,
    private readonly mapper: BinMapper,
    private readonly opts: GrowOptions,
  ) {
    const d = mapper.nFeatures;
    this.featureOffset = new Int32Array(d + 1);
    for (let f = 0; f < d; f++) this.featureOffset[f + 1] = this.featureOffset[f] + mapper.nBins[f] + 1;
    // At most maxLeaves histograms are held at once (one per open leaf, the parent's passing to a child).
    const split = { nBins: mapper.nBins, l2: opts.l2, minSamplesLeaf: opts.minSamplesLeaf, minHessian: MIN_HESSIAN };
    this.workspace = new BoostingWorkspace(bins, n, this.featureOffset, {
      threads: opts.threads ?? 1,
      slotCapacity: opts.maxLeaves + 1,
      scoreColumns: opts.scoreColumns ?? 1,
      split,
    });
    this.rows = this.workspace.rows;
  }

  /** Releases the helper thread, if any. */
  dispose(): void {
    this.workspace.dispose();
  }

  /** The training rows' scores (row-major, scoreColumns per row) and targets, which gradients() reads. */
  get scores(): Float64Array {
    return this.workspace.scores;
  }

  get y(): Float64Array {
    return this.workspace.y;
  }

  /** Gradients of a single-score loss (its RANGE_GRADIENTS index) from scores and y, for the next tree. */
  gradients(loss: number, withLoss = true): GradientSums {
    return this.workspace.gradients(loss, withLoss);
  }

  /** Gradients and hessians given per row, for the next tree. */
  setGradients(g: Float64Array | Float32Array, h: Float64Array | Float32Array): GradientSums {
    return this.workspace.setGradients(g, h);
  }

  /** Softmax gradients of every score column from scores and y; returns the summed loss. */
  softmaxGradients(): number {
    return this.workspace.softmaxGradients();
  }

  /** Score column c's gradients (from the last softmaxGradients()) for the next tree. */
  columnGradients(c: number): GradientSums {
    return this.workspace.columnGradients(c);
  }

  /** Grows one tree fitted to the gradients last set (gradients() or setGradients(), whose sums are given). */
  grow(sums: GradientSums): Tree {
    const { n, opts } = this;
    const builder = new TreeBuilder();
    this.freeHists = Array.from({ length: this.histSlots }, (_, i) => i);
    this.finalLeaves = [];
    for (let i = 0; i < n; i++) this.rows[i] = i;

    const root = this.newLeaf(builder.addLeaf(0), 0, n, 0, sums.g, sums.h);
    this.setSplits([root], this.workspace.step(root.hist, -1, n, -1, [splitLeaf(root)]));

    const open: Leaf[] = [root];
    let leafCount = 1;
    while (leafCount < opts.maxLeaves) {
      let best = -1;
      for (let i = 0; i < open.length; i++)
        if (open[i].gain > 0 && (best < 0 || open[i].gain > open[best].gain)) best = i;
      if (best < 0) break;
      const parent = open[best];
      open.splice(best, 1);
      const [leftNode, rightNode] = builder.split(
        parent.node,
        parent.feature,
        this.mapper.threshold(parent.feature, parent.bin),
        parent.missingLeft,
      );
      const mid = this.partition(parent);
      const depth = parent.depth + 1;
      const left = this.newLeaf(leftNode, parent.start, mid, depth, parent.leftG, parent.leftH, -1);
      const right = this.newLeaf(
        rightNode,
        mid,
        parent.end,
        depth,
        parent.g - parent.leftG,
        parent.h - parent.leftH,
        -1,
      );
      leafCount++;

      const canSplitMore = depth < opts.maxDepth && leafCount < opts.maxLeaves;
      const splittable = (l: Leaf) => canSplitMore && l.end - l.start >= 2 * opts.minSamplesLeaf;
      if (splittable(left) || splittable(right)) {
        // Smaller child from its rows; larger child = parent - smaller, in the parent's buffer.
        const [small, large] = left.end - left.start <= right.end - right.start ? [left, right] : [right, left];
        small.hist = this.takeHist();
        large.hist = parent.hist;
        const growing = [left, right].filter(splittable);
        this.setSplits(
          growing,
          this.workspace.step(small.hist, small.start, small.end - small.start, parent.hist, growing.map(splitLeaf)),
        );
        for (const child of [left, right]) {
          if (splittable(child)) {
            open.push(child);
          } else {
            this.releaseHist(child);
            this.finalLeaves.push(child);
          }
        }
      } else {
        this.releaseHist(parent);
        this.finalLeaves.push(left, right);
      }
    }
    for (const leaf of open) {
      this.releaseHist(leaf);
      this.finalLeaves.push(leaf);
    }
    for (const leaf of this.finalLeaves) builder.setValue(leaf.node, this.leafValue(leaf));
    return builder.freeze();
  }

  /** Adds the last grown tree's leaf values to column `column` of `scores` for every training row. */
  addToScores(tree: Tree, column: number): void {
    const ranges = this.workspace.leafRanges;
    const leaves = this.finalLeaves;
    for (let i = 0; i < leaves.length; i++) {
      ranges[3 * i] = leaves[i].start;
      ranges[3 * i + 1] = leaves[i].end;
      ranges[3 * i + 2] = tree.value[leaves[i].node];
    }
    this.workspace.addLeafValues(leaves.length, column);
  }

  private leafValue(leaf: Leaf): number {
    return (-leaf.g / (leaf.h + this.opts.l2)) * this.opts.learningRate;
  }

  private newLeaf(
    node: number,
    start: number,
    end: number,
    depth: number,
    g: number,
    h: number,
    hist = this.takeHist(),
  ): Leaf {
    return {
      node,
      start,
      end,
      depth,
      hist,
      g,
      h,
      gain: 0,
      feature: -1,
      bin: -1,
      missingLeft: false,
      leftG: 0,
      leftH: 0,
    };
  }

  private takeHist(): number {
    const free = this.freeHists.pop();
    if (free !== undefined) return free;
    return this.histSlots++;
  }

  private releaseHist(leaf: Leaf): void {
    if (leaf.hist >= 0) this.freeHists.push(leaf.hist);
    leaf.hist = -1;
  }

  /** Copies each leaf's best split (gain <= 0 when none) from step's results (split.ts's layout). */
  private setSplits(leaves: Leaf[], results: Float64Array): void {
    for (let i = 0; i < leaves.length; i++) {
      const leaf = leaves[i];
      const at = SPLIT_RESULT_SIZE * i;
      leaf.gain = results[at];
      if (results[at + 1] < 0) continue;
      leaf.feature = results[at + 1];
      leaf.bin = results[at + 2];
      leaf.missingLeft = results[at + 3] === 1;
      leaf.leftG = results[at + 4];
      leaf.leftH = results[at + 5];
    }
  }

  /** Stable in-place partition of the leaf's rows by its best split; returns the first right index. */
  private partition(leaf: Leaf): number {
    return this.workspace.partition(
      leaf.start,
      leaf.end,
      leaf.feature,
      leaf.bin,
      this.mapper.nBins[leaf.feature],
      leaf.missingLeft,
    );
  }
}

function splitLeaf(leaf: Leaf): SplitLeaf {
  return { hist: leaf.hist, count: leaf.end - leaf.start, g: leaf.g, h: leaf.h };
}
