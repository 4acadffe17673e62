// One regression tree of the ensemble, stored as flat arrays indexed by node id (root = 0, ids in
// creation order, as ONNX's TreeEnsemble operators want them).

export interface Tree {
  /** Split column per node; -1 for a leaf. */
  feature: Int32Array;
  /** float32 threshold: x <= threshold goes left (BRANCH_LEQ). */
  threshold: Float32Array;
  /** 1 when a missing value (NaN) goes left. */
  missingLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  /** Leaf value (learning rate applied), a float32 value; 0 for internal nodes. */
  value: Float32Array;
}

/** The leaf a dense row (float32 values at X[offset + feature]) reaches, evaluated as ONNX Runtime does. */
export function leafOf(tree: Tree, X: Float32Array, offset: number): number {
  const { feature, threshold, missingLeft, left, right } = tree;
  let node = 0;
  let f = feature[0];
  while (f >= 0) {
    const x = X[offset + f];
    node = x <= threshold[node] || (x !== x && missingLeft[node] === 1) ? left[node] : right[node];
    f = feature[node];
  }
  return node;
}

/** The depth of the deepest leaf (0 for a single leaf). Nodes are created parent first, so one pass in id order sees every parent before its children. */
export function treeDepth(tree: Tree): number {
  const depthOf = new Int32Array(tree.feature.length);
  let depth = 0;
  for (let node = 0; node < tree.feature.length; node++) {
    if (tree.feature[node] < 0) depth = Math.max(depth, depthOf[node]);
    else {
      depthOf[tree.left[node]] = depthOf[node] + 1;
      depthOf[tree.right[node]] = depthOf[node] + 1;
    }
  }
  return depth;
}

/** Growing storage for a tree's nodes; `freeze` trims it to a Tree. */
export class TreeBuilder {
  private feature: number[] = [];
  private threshold: number[] = [];
  private missingLeft: number[] = [];
  private left: number[] = [];
  private right: number[] = [];
  private value: number[] = [];

  addLeaf(value: number): number {
    this.feature.push(-1);
    this.threshold.push(0);
    this.missingLeft.push(0);
    this.left.push(-1);
    this.right.push(-1);
    this.value.push(Math.fround(value));
    return this.feature.length - 1;
  }

  setValue(node: number, value: number): void {
    this.value[node] = Math.fround(value);
  }

  /** Turns leaf `node` into a split with two new leaf children; returns their ids. */
  split(node: number, feature: number, threshold: number, missingLeft: boolean): [number, number] {
    const l = this.addLeaf(0);
    const r = this.addLeaf(0);
    this.feature[node] = feature;
    this.threshold[node] = Math.fround(threshold);
    this.missingLeft[node] = missingLeft ? 1 : 0;
    this.left[node] = l;
    this.right[node] = r;
    this.value[node] = 0;
    return [l, r];
  }

  freeze(): Tree {
    return {
      feature: Int32Array.from(this.feature),
      threshold: Float32Array.from(this.threshold),
      missingLeft: Uint8Array.from(this.missingLeft),
      left: Int32Array.from(this.left),
      right: Int32Array.from(this.right),
      value: Float32Array.from(this.value),
    };
  }
}
