// Leaf-wise growth of one regression tree on binned data, from per-row gradients and hessians.
//
// Hot-path layout (allocation-free per tree once constructed):
//  - bins: Uint8Array, column-major (bins[f * n + row]);
//  - rows: one Uint32Array holding every row, each leaf owning a contiguous range [start, end),
//    partitioned stably in place on split (rows stay ascending within a leaf: cache-friendly reads);
//  - histograms (built by HistogramBuilder, see histogram.ts): only the smaller child's is built,
//    the sibling's is parent minus smaller child (computed in place in the parent's buffer).

import type { BinMapper } from './binning';
import { HistogramBuilder } from './histogram';
import { TreeBuilder, type Tree } from './tree';

export interface GrowOptions {
  maxLeaves: number;
  /** Infinity for no limit. */
  maxDepth: number;
  minSamplesLeaf: number;
  l2: number;
  learningRate: number;
  /** Threads building histograms (1 or 2); the trees are identical either way. */
  threads?: number;
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
  private readonly histograms: HistogramBuilder;
  private readonly rows: Uint32Array;
  private readonly scratch: Uint32Array;
  /** Offset (in bins) of each column's histogram; each column has nBins + 1 bins (the last for missing). */
  private readonly featureOffset: Int32Array;
  /** Histogram slots handed out (by HistogramBuilder, which holds them) and those free again. */
  private histSlots = 0;
  private freeHists: number[] = [];
  private finalLeaves: Leaf[] = [];

  constructor(
    private readonly bins: Uint8Array,
    private readonly n: number,
    private readonly mapper: BinMapper,
    private readonly opts: GrowOptions,
  ) {
    const d = mapper.nFeatures;
    this.featureOffset = new Int32Array(d + 1);
    for (let f = 0; f < d; f++) this.featureOffset[f + 1] = this.featureOffset[f] + mapper.nBins[f] + 1;
    // At most maxLeaves histograms are held at once (one per open leaf, the parent's passing to a child).
    this.histograms = new HistogramBuilder(bins, n, this.featureOffset, opts.threads ?? 1, opts.maxLeaves + 1);
    this.rows = this.histograms.rows;
    this.scratch = new Uint32Array(n);
  }

  /** Releases the histogram helper thread, if any. */
  dispose(): void {
    this.histograms.dispose();
  }

  /** Grows one tree fitted to gradients g and hessians h (one per training row). */
  grow(g: Float64Array, h: Float64Array): Tree {
    const { n, opts } = this;
    const builder = new TreeBuilder();
    this.freeHists = Array.from({ length: this.histSlots }, (_, i) => i);
    this.finalLeaves = [];
    for (let i = 0; i < n; i++) this.rows[i] = i;

    let sumG = 0;
    let sumH = 0;
    for (let i = 0; i < n; i++) {
      sumG += g[i];
      sumH += h[i];
    }
    const root = this.newLeaf(builder.addLeaf(0), 0, n, 0, sumG, sumH);
    this.histograms.setGradients(g, h);
    this.histograms.buildRoot(root.hist);
    this.findBestSplit(root);

    const open: Leaf[] = [root];
    let leafCount = 1;
    while (leafCount < opts.maxLeaves) {
      let best = -1;
      for (let i = 0; i < open.length; i++) if (open[i].gain > 0 && (best < 0 || open[i].gain > open[best].gain)) best = i;
      if (best < 0) break;
      const parent = open[best];
      open.splice(best, 1);
      const [leftNode, rightNode] = builder.split(parent.node, parent.feature, this.mapper.threshold(parent.feature, parent.bin), parent.missingLeft);
      const mid = this.partition(parent);
      const depth = parent.depth + 1;
      const left = this.newLeaf(leftNode, parent.start, mid, depth, parent.leftG, parent.leftH, -1);
      const right = this.newLeaf(rightNode, mid, parent.end, depth, parent.g - parent.leftG, parent.h - parent.leftH, -1);
      leafCount++;

      const canSplitMore = depth < opts.maxDepth && leafCount < opts.maxLeaves;
      const splittable = (l: Leaf) => canSplitMore && l.end - l.start >= 2 * opts.minSamplesLeaf;
      if (splittable(left) || splittable(right)) {
        // Smaller child from its rows; larger child = parent - smaller, in the parent's buffer.
        const [small, large] = left.end - left.start <= right.end - right.start ? [left, right] : [right, left];
        small.hist = this.takeHist();
        this.histograms.buildLeaf(small.hist, small.start, small.end);
        this.histograms.subtract(parent.hist, small.hist);
        large.hist = parent.hist;
        for (const child of [left, right]) {
          if (splittable(child)) {
            this.findBestSplit(child);
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

  /** Adds the last grown tree's leaf values to scores[row * stride + column] for every training row. */
  addToScores(tree: Tree, scores: Float64Array, stride: number, column: number): void {
    const rows = this.rows;
    for (const leaf of this.finalLeaves) {
      const v = tree.value[leaf.node];
      for (let k = leaf.start; k < leaf.end; k++) scores[rows[k] * stride + column] += v;
    }
  }

  private leafValue(leaf: Leaf): number {
    return (-leaf.g / (leaf.h + this.opts.l2)) * this.opts.learningRate;
  }

  private newLeaf(node: number, start: number, end: number, depth: number, g: number, h: number, hist = this.takeHist()): Leaf {
    return { node, start, end, depth, hist, g, h, gain: 0, feature: -1, bin: -1, missingLeft: false, leftG: 0, leftH: 0 };
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

  /**
   * Best split of a leaf over every column, both directions for missing values; ties keep the first
   * found. The best so far lives in locals and is written to the leaf once (this runs for every bin
   * of every column of every new leaf).
   */
  private findBestSplit(leaf: Leaf): void {
    const hist = this.histograms.histogram(leaf.hist);
    const { l2, minSamplesLeaf } = this.opts;
    const C = leaf.end - leaf.start;
    const G = leaf.g;
    const H = leaf.h;
    const parentScore = (G * G) / (H + l2);
    const nBins = this.mapper.nBins;
    const featureOffset = this.featureOffset;
    let bestGain = 0;
    let bestFeature = -1;
    let bestBin = -1;
    let bestMissingLeft = false;
    let bestG = 0;
    let bestH = 0;
    const d = this.mapper.nFeatures;
    for (let f = 0; f < d; f++) {
      const nb = nBins[f];
      const off = featureOffset[f] * 3;
      const miss = off + nb * 3;
      const gM = hist[miss];
      const hM = hist[miss + 1];
      const cM = hist[miss + 2];
      let gL = 0;
      let hL = 0;
      let cL = 0;
      if (cM === 0) {
        // No missing values here (the common case), so one side per threshold: the same sums and
        // comparisons as the general loop below, without its per-bin side loop. The left count only
        // grows, so once the right side is too small it stays so.
        for (let t = 0; t <= nb - 2; t++) {
          const idx = off + t * 3;
          const c = hist[idx + 2];
          // An empty bin changes no sum: its split is the previous one, already weighed.
          if (c === 0) continue;
          gL += hist[idx];
          hL += hist[idx + 1];
          cL += c;
          if (cL < minSamplesLeaf) continue;
          if (C - cL < minSamplesLeaf) break;
          if (hL < MIN_HESSIAN || H - hL < MIN_HESSIAN) continue;
          const gR = G - gL;
          const gain = (gL * gL) / (hL + l2) + (gR * gR) / (H - hL + l2) - parentScore;
          if (gain > bestGain) {
            bestGain = gain;
            bestFeature = f;
            bestBin = t;
            // Unseen NaN follow the larger child, as scikit-learn does.
            bestMissingLeft = 2 * cL >= C;
            bestG = gL;
            bestH = hL;
          }
        }
        continue;
      }
      // t = nb - 1 (all non-missing left, missing right) only makes sense when there are missing values.
      const lastT = nb - 1;
      for (let t = 0; t <= lastT; t++) {
        const idx = off + t * 3;
        gL += hist[idx];
        hL += hist[idx + 1];
        cL += hist[idx + 2];
        // Side 0: missing values go right. Side 1: they go left.
        const sides = t < nb - 1 ? 2 : 1;
        for (let side = 0; side < sides; side++) {
          const gl = side === 0 ? gL : gL + gM;
          const hl = side === 0 ? hL : hL + hM;
          const cl = side === 0 ? cL : cL + cM;
          if (cl < minSamplesLeaf || C - cl < minSamplesLeaf || hl < MIN_HESSIAN || H - hl < MIN_HESSIAN) continue;
          const gR = G - gl;
          const gain = (gl * gl) / (hl + l2) + (gR * gR) / (H - hl + l2) - parentScore;
          if (gain > bestGain) {
            bestGain = gain;
            bestFeature = f;
            bestBin = t;
            bestMissingLeft = side === 1;
            bestG = gl;
            bestH = hl;
          }
        }
      }
    }
    leaf.gain = bestGain;
    if (bestFeature >= 0) {
      leaf.feature = bestFeature;
      leaf.bin = bestBin;
      leaf.missingLeft = bestMissingLeft;
      leaf.leftG = bestG;
      leaf.leftH = bestH;
    }
  }

  /** Stable in-place partition of the leaf's rows by its best split; returns the first right index. */
  private partition(leaf: Leaf): number {
    const { rows, scratch, bins, n } = this;
    const base = leaf.feature * n;
    const t = leaf.bin;
    const missingBin = this.mapper.nBins[leaf.feature];
    const missingLeft = leaf.missingLeft ? 1 : 0;
    let l = leaf.start;
    let r = 0;
    // Branch-free: each row is written to both sides and only the chosen side's cursor advances
    // (the left/right choice is unpredictable, a branch would mispredict half the time), and the
    // choice itself is arithmetic on comparisons made numbers (V8 branches on a conditional
    // expression). The missing bin is above t, so only the second term can send it left.
    for (let k = leaf.start; k < leaf.end; k++) {
      const row = rows[k];
      const b = bins[base + row];
      const goLeft = +(b <= t) | (+(b === missingBin) & missingLeft);
      rows[l] = row;
      scratch[r] = row;
      l += goLeft;
      r += 1 - goLeft;
    }
    rows.set(scratch.subarray(0, r), l);
    return l;
  }
}
