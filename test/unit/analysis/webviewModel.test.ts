// The Error Analysis list's pure logic (filters, sort, virtual window, selection) and the protocol's
// validators: what the webview and the host accept from each other. Also the Production source: the
// review queue as the columns the host sends, filtered and sorted like dev.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyTagDelta,
  defaultFilters,
  selectWith,
  UNTAGGED,
  visibleProductionRows,
  visibleRows,
  windowOf,
} from '../../../webview/errorAnalysis/model';
import {
  devColumnsOf,
  isErrorAnalysisHostMessage,
  isErrorAnalysisWebviewMessage,
  productionColumnsOf,
  type DevColumns,
  type ErrorAnalysisView,
} from '../../../src/protocol/errorAnalysis';
import { productionQueueOf, type ReviewItem } from '../../../src/core/update/reviewQueue';
import type { ErrorTable } from '../../../src/core/analysis/errorTable';

const dev: DevColumns = {
  ids: ['a', 'b', 'c', 'd', 'e'],
  truth: Float64Array.from([0, 1, 1, 2, 0]),
  predicted: Float64Array.from([1, 1, 2, 0, 0]),
  confidence: Float32Array.from([0.9, 0.8, 0.55, 0.3, 0.99]),
  loss: Float32Array.from([2.3, 0.2, 1.1, 0.7, 0.01]),
  wrong: Uint8Array.from([1, 0, 1, 1, 0]),
};
const tags = { a: ['blurry'], c: ['blurry', 'dark'] };

test('filters: errors only, true/predicted class (a confusion cell), confidence range, tag, untagged, slice rows', () => {
  const f = defaultFilters();
  assert.deepEqual([...visibleRows(dev, tags, f, 'loss')], [0, 2, 3]);
  assert.deepEqual([...visibleRows(dev, tags, { ...f, truth: 1, predicted: 2 }, 'loss')], [2]);
  assert.deepEqual(
    [...visibleRows(dev, tags, { ...f, errorsOnly: false, minConfidence: 0.5, maxConfidence: 0.95 }, 'loss')],
    [0, 2, 1],
  );
  assert.deepEqual([...visibleRows(dev, tags, { ...f, tag: 'blurry' }, 'loss')], [0, 2]);
  assert.deepEqual([...visibleRows(dev, tags, { ...f, tag: UNTAGGED }, 'loss')], [3]);
  assert.deepEqual([...visibleRows(dev, tags, { ...f, sliceRows: new Set([3, 4]) }, 'loss')], [3]);
});

test('sorts: loss, confidence both ways, true class', () => {
  const all = { ...defaultFilters(), errorsOnly: false };
  assert.deepEqual([...visibleRows(dev, tags, all, 'confidence-desc')], [4, 0, 1, 2, 3]);
  assert.deepEqual([...visibleRows(dev, tags, all, 'confidence-asc')], [3, 2, 1, 0, 4]);
  assert.deepEqual([...visibleRows(dev, tags, all, 'truth')], [0, 4, 2, 1, 3]);
});

test('virtual window: only the rows in view plus overscan, bounded by the list', () => {
  assert.deepEqual(windowOf(0, 600, 76, 50_000), { start: 0, end: 14 });
  assert.deepEqual(windowOf(76 * 1000, 600, 76, 50_000), { start: 994, end: 1014 });
  assert.deepEqual(windowOf(76 * 49_999, 600, 76, 50_000), { start: 49_993, end: 50_000 });
  assert.deepEqual(windowOf(0, 600, 76, 0), { start: 0, end: 0 });
});

// Its speed is measured by `npm run bench:errors` (the webview's open and scroll times), not asserted here.
test('a 50,000-row dev set: every row passes the open filters, sorted by loss', () => {
  const n = 50_000;
  const big: DevColumns = {
    ids: [],
    truth: new Float64Array(n),
    predicted: new Float64Array(n),
    confidence: new Float32Array(n),
    loss: new Float32Array(n),
    wrong: new Uint8Array(n),
  };
  for (let i = 0; i < n; i++) {
    big.ids.push(`id${i}`);
    big.truth[i] = i % 10;
    big.predicted[i] = (i * 7) % 10;
    big.confidence[i] = (i % 97) / 97;
    big.loss[i] = (i * 7919) % 1000;
    big.wrong[i] = big.truth[i] !== big.predicted[i] ? 1 : 0;
  }
  const rows = visibleRows(big, {}, { ...defaultFilters(), errorsOnly: false }, 'loss');
  assert.equal(rows.length, n);
  for (let i = 1; i < rows.length; i++) assert.ok(big.loss[rows[i - 1]] >= big.loss[rows[i]]);
});

test('selection: click, ctrl-toggle, shift-range', () => {
  const order = ['a', 'b', 'c', 'd'];
  let s = selectWith(new Set(), order, 1, -1, { shift: false, toggle: false });
  assert.deepEqual([...s], ['b']);
  s = selectWith(s, order, 3, 1, { shift: true, toggle: false });
  assert.deepEqual([...s].sort(), ['b', 'c', 'd']);
  s = selectWith(s, order, 2, 1, { shift: false, toggle: true });
  assert.deepEqual([...s].sort(), ['b', 'd']);
});

test('validators: tag needs ids and a non-blank tag; augment a whole count ≥ 1 and a source; junk refused', () => {
  assert.ok(isErrorAnalysisWebviewMessage({ type: 'tag', ids: ['a'], tag: 'blurry' }));
  assert.ok(!isErrorAnalysisWebviewMessage({ type: 'tag', ids: [], tag: 'blurry' }));
  assert.ok(!isErrorAnalysisWebviewMessage({ type: 'tag', ids: ['a'], tag: '  ' }));
  assert.ok(isErrorAnalysisWebviewMessage({ type: 'augment', source: { tag: 'blurry' }, count: 50 }));
  assert.ok(!isErrorAnalysisWebviewMessage({ type: 'augment', source: { tag: 'blurry' }, count: 0.5 }));
  assert.ok(!isErrorAnalysisWebviewMessage({ type: 'augment', source: {}, count: 5 }));
  assert.ok(isErrorAnalysisWebviewMessage({ type: 'train', version: 'abc', experiment: 'softmax' }));
  assert.ok(!isErrorAnalysisWebviewMessage({ type: 'rm -rf' }));
  assert.ok(isErrorAnalysisHostMessage({ type: 'state', state: { status: 'loading', runId: 'r' } }));
  assert.ok(isErrorAnalysisHostMessage({ type: 'sliceRows', key: 'x>1', rows: [1, 2] }));
  assert.ok(!isErrorAnalysisHostMessage({ type: 'state', state: { status: 'loaded', view: { runId: 'r' } } }));
});

test("the dev columns the host sends: the table's typed arrays, each on an exact-size buffer; regression has NaN confidence", () => {
  const table: ErrorTable = {
    task: 'classification',
    classes: ['a', 'b'],
    n: 3,
    ids: ['x', 'y', 'z'],
    truth: Float64Array.from([0, 1, 1]),
    predicted: Float64Array.from([0, 0, 1]),
    confidence: Float32Array.from([0.123456, 0.987654, 1]),
    loss: Float32Array.from([0.0123456, 4.56789, 0]),
    // A view into a larger buffer (a growable's): VS Code would send the whole buffer, so it is copied.
    wrong: new Uint8Array([0, 1, 0, 9, 9, 9]).subarray(0, 3),
    errorCount: 1,
  };
  const cols = devColumnsOf(table);
  assert.deepEqual(cols, {
    ids: ['x', 'y', 'z'],
    truth: table.truth,
    predicted: table.predicted,
    confidence: table.confidence,
    loss: table.loss,
    wrong: Uint8Array.from([0, 1, 0]),
  });
  assert.equal(cols.truth, table.truth, 'an exact array is sent as it is');
  assert.equal(cols.wrong.buffer.byteLength, 3);
  const regression = devColumnsOf({ ...table, task: 'regression', confidence: Float32Array.from([NaN, NaN, NaN]) });
  assert.ok([...regression.confidence].every(Number.isNaN));
  assert.deepEqual(
    [
      ...visibleRows(
        { ...dev, confidence: new Float32Array(5).fill(NaN) },
        {},
        { ...defaultFilters(), minConfidence: 0.5 },
        'confidence-desc',
      ),
    ],
    [0, 2, 3],
    'no confidence filters nothing out',
  );
});

function viewOf(cols: DevColumns): ErrorAnalysisView {
  return {
    runId: 'r1',
    load: 1,
    experiment: 'softmax',
    dataVersion: 'v',
    task: 'classification',
    classes: ['0', '1', '2'],
    featureNames: ['f'],
    dev: cols,
    production: {
      ids: [],
      refs: [],
      deployments: [],
      times: [],
      predicted: [],
      confidence: [],
      truth: [],
      reasons: [],
      hidden: 0,
    },
    errorCount: 3,
    tags: { a: ['blurry'] },
    tagTable: [],
    slices: [],
    labelErrors: { status: 'idle' },
    labelErrorSource: 'cross-validation',
    versions: [],
    experiments: ['softmax'],
    openMs: 5,
  };
}

test('validators: the state carries the dev columns as typed arrays (plain arrays or short columns refused)', () => {
  assert.ok(isErrorAnalysisHostMessage({ type: 'state', state: { status: 'loaded', view: viewOf(dev) } }));
  assert.ok(
    !isErrorAnalysisHostMessage({
      type: 'state',
      state: { status: 'loaded', view: viewOf({ ...dev, truth: [0, 1, 1, 2, 0] as unknown as Float64Array }) },
    }),
  );
  assert.ok(
    !isErrorAnalysisHostMessage({
      type: 'state',
      state: { status: 'loaded', view: viewOf({ ...dev, loss: dev.loss.subarray(0, 4) }) },
    }),
  );
  assert.ok(
    !isErrorAnalysisHostMessage({
      type: 'state',
      state: { status: 'loaded', view: { ...viewOf(dev), load: undefined } },
    }),
  );
});

test('validators: an update names its run and load, carries deltas and never dev columns', () => {
  const update = (u: unknown) => ({ type: 'update', runId: 'r1', load: 1, update: u });
  assert.ok(
    isErrorAnalysisHostMessage(
      update({
        tags: { a: [], b: ['dark'] },
        tagTable: [{ tag: 'dark', errors: 1, shareOfErrors: 0.3, tagged: 1, errorRate: 1 }],
      }),
    ),
  );
  assert.ok(isErrorAnalysisHostMessage(update({ busy: '' })));
  assert.ok(isErrorAnalysisHostMessage(update({ labelErrors: { status: 'running', done: 1, total: 5 } })));
  assert.ok(!isErrorAnalysisHostMessage(update({ tags: { a: 'dark' } })));
  assert.ok(!isErrorAnalysisHostMessage(update({ dev })));
  assert.ok(!isErrorAnalysisHostMessage({ type: 'update', runId: 'r1', update: {} }));
});

test('a tag delta: new lists replace, empty lists remove the id', () => {
  const store = { a: ['blurry'], c: ['blurry', 'dark'] };
  assert.deepEqual(applyTagDelta(store, { a: [], b: ['dark'], c: ['dark'] }), { b: ['dark'], c: ['dark'] });
});

const queue: ReviewItem[] = [
  {
    id: 'p1',
    requestId: 'r1',
    deployment: 'digits',
    time: '2026-11-27T10:00:00Z',
    reasons: ['low-confidence'],
    features: { u: 1, v: 2 },
    predicted: 'b',
    confidence: 0.512345,
  },
  {
    id: 'p2',
    requestId: 'r2',
    row: 1,
    deployment: 'digits',
    time: '2026-11-27T10:00:01Z',
    reasons: ['drift', 'low-confidence'],
    drift: ['u = 9 outside the training range'],
    features: { u: 9, v: 2 },
    predicted: 'a',
    confidence: 0.4,
    label: 'c',
  },
  {
    id: 'p3',
    requestId: 'r3',
    deployment: 'digits',
    time: '2026-11-27T10:00:02Z',
    reasons: ['drift'],
    drift: ['v = 5 in an over-represented range'],
    features: { u: 1, v: 5 },
    predicted: 'zebra',
    label: 'a',
  },
  {
    id: 'p4',
    requestId: 'r4',
    deployment: 'iris',
    time: '2026-11-27T10:00:03Z',
    reasons: ['low-confidence'],
    features: { petal: 1 },
    predicted: 'a',
    confidence: 0.3,
  },
];
const schema = {
  task: 'classification' as const,
  target: 'y',
  numeric: ['u', 'v'],
  categorical: [],
  classes: ['a', 'b', 'c'],
};

test("the Production source: the queue of the run's model as columns — served prediction, confidence, feedback label as class indices, why queued", () => {
  const cols = productionColumnsOf(productionQueueOf(queue, schema), schema.classes);
  assert.deepEqual(cols, {
    ids: ['p1', 'p2', 'p3'],
    refs: ['r1', 'r2#1', 'r3'],
    deployments: ['digits', 'digits', 'digits'],
    times: ['2026-11-27T10:00:00Z', '2026-11-27T10:00:01Z', '2026-11-27T10:00:02Z'],
    predicted: [1, 0, null],
    confidence: [0.5123, 0.4, null],
    truth: [null, 2, 0],
    reasons: [
      'low confidence',
      'low confidence; u = 9 outside the training range',
      'v = 5 in an over-represented range',
    ],
    hidden: 1,
  });
  // Filters as on dev (errors only and slices do not apply); the loss order is lowest confidence first, unknown last.
  const f = defaultFilters();
  assert.deepEqual([...visibleProductionRows(cols, {}, f, 'loss')], [1, 0, 2]);
  assert.deepEqual([...visibleProductionRows(cols, {}, f, 'confidence-desc')], [0, 1, 2]);
  assert.deepEqual([...visibleProductionRows(cols, {}, { ...f, truth: 2 }, 'loss')], [1]);
  assert.deepEqual([...visibleProductionRows(cols, {}, { ...f, predicted: 1 }, 'loss')], [0]);
  assert.deepEqual([...visibleProductionRows(cols, { p2: ['glare'] }, { ...f, tag: 'glare' }, 'loss')], [1]);
  assert.deepEqual([...visibleProductionRows(cols, { p2: ['glare'] }, { ...f, tag: UNTAGGED }, 'truth')], [2, 0]);
  assert.deepEqual([...visibleProductionRows(cols, {}, { ...f, maxConfidence: 0.45 }, 'loss')], [1, 2]);
  // The loaded state carries it, and the validator checks its columns line up.
  const view = {
    runId: 'r',
    load: 1,
    experiment: 'softmax',
    dataVersion: 'v',
    task: 'classification',
    classes: schema.classes,
    featureNames: ['u', 'v'],
    dev,
    production: cols,
    errorCount: 3,
    tags: {},
    tagTable: [],
    slices: [],
    labelErrors: { status: 'idle' },
    labelErrorSource: 'cross-validation',
    versions: [],
    experiments: ['softmax'],
    openMs: 1,
  } satisfies ErrorAnalysisView;
  const state = (v: unknown, filter?: unknown) => ({
    type: 'state',
    state: { status: 'loaded', view: v, ...(filter ? { filter } : {}) },
  });
  assert.ok(isErrorAnalysisHostMessage(state(view, { seq: 1, source: 'production' })));
  assert.ok(!isErrorAnalysisHostMessage(state(view, { seq: 1, source: 'staging' })));
  assert.ok(!isErrorAnalysisHostMessage(state({ ...view, production: undefined })));
  assert.ok(!isErrorAnalysisHostMessage(state({ ...view, production: { ...cols, refs: ['r1'] } })));
  assert.ok(!isErrorAnalysisHostMessage(state({ ...view, production: { ...cols, confidence: ['high', null, null] } })));
});
