// Error Analysis webview: a virtualized list of dev examples (images for data.image projects) with
// filters and keyboard tagging, the tag table, slices, likely label errors and data versions. The
// Production source lists the review queue's drifted or low-confidence production requests the same
// way (tagged with the same keys). The host computes everything; this page filters, sorts and draws.
import { connect, onThemeChange, readThemeColors, registerToolkit } from '../shared';
import { button, h } from '../shared/dom';
import { photoPixels, samplePixels, parseCssColor } from '../data/charts';
import {
  isErrorAnalysisHostMessage,
  type AugmentSourceRef,
  type ErrorAnalysisHostMessage,
  type ErrorAnalysisState,
  type ErrorAnalysisUpdate,
  type ErrorAnalysisView,
  type ErrorAnalysisWebviewMessage,
  type ExampleSource,
  type NeighboursView,
} from '../../src/protocol/errorAnalysis';
import {
  applyTagDelta,
  defaultFilters,
  selectWith,
  UNTAGGED,
  visibleProductionRows,
  visibleRows,
  windowOf,
  type Filters,
  type SortKey,
} from './model';
import { createImageLoop } from './imageLoop';

registerToolkit();

interface UiState {
  scrollTop: number;
  sort: SortKey;
  source?: ExampleSource;
}

const root = document.getElementById('root')!;
root.setAttribute('data-panel', 'errorAnalysis');
root.classList.add('ea');

let view: ErrorAnalysisView | undefined;
/** The last loaded state (its view is `view`): updates of the same load are merged into it. */
let loaded: Extract<ErrorAnalysisState, { status: 'loaded' }> | undefined;
let filters: Filters = defaultFilters();
let sliceKey = '';
let sliceLabel = '';
let order: Int32Array = new Int32Array(0);
let orderIds: string[] = [];
let selected = new Set<string>();
let anchor = -1;
let cursor = 0;
let lastFilterSeq = 0;
let requestSeq = 0;
const features = new Map<string, number[]>();
const categoriesOf = new Map<string, string[]>();
const pending = new Set<string>();
const marked = new Map<string, string>(); // label errors marked wrong: id → suggested label

const channel = connect<ErrorAnalysisHostMessage, ErrorAnalysisWebviewMessage, UiState>(
  isErrorAnalysisHostMessage,
  onMessage,
);
let sort: SortKey = channel.getUiState()?.sort ?? 'loss';
let source: ExampleSource = channel.getUiState()?.source ?? 'dev';

// ---- static layout ----
const titleEl = h('h1', {}, 'Error analysis');
const statsEl = h('div', { class: 'stats' });
const busyEl = h('span', { class: 'busy muted', 'data-role': 'busy' });
const header = h(
  'div',
  { class: 'title-row' },
  h('div', {}, titleEl, statsEl),
  h(
    'div',
    { class: 'actions' },
    busyEl,
    button('Add Data…', 'add-data', () => channel.post({ type: 'addData' })),
    button('Refresh', 'refresh', () => channel.post({ type: 'refresh' })),
  ),
);

const sourceSel = h('select', { 'data-filter': 'source', 'aria-label': 'Examples' });
const errorsOnly = h('input', { type: 'checkbox', 'data-filter': 'errors-only', id: 'errors-only' });
errorsOnly.checked = true;
const truthSel = h('select', { 'data-filter': 'truth', 'aria-label': 'True class' });
const predSel = h('select', { 'data-filter': 'predicted', 'aria-label': 'Predicted class' });
const minConf = h('input', {
  type: 'number',
  min: '0',
  max: '1',
  step: '0.05',
  value: '0',
  'data-filter': 'min-confidence',
  'aria-label': 'Minimum confidence',
});
const maxConf = h('input', {
  type: 'number',
  min: '0',
  max: '1',
  step: '0.05',
  value: '1',
  'data-filter': 'max-confidence',
  'aria-label': 'Maximum confidence',
});
const tagSel = h('select', { 'data-filter': 'tag', 'aria-label': 'Tag' });
const sortSel = h('select', { 'data-filter': 'sort', 'aria-label': 'Sort' });
for (const [v, label] of [
  ['loss', 'loss ↓'],
  ['confidence-desc', 'confidence ↓'],
  ['confidence-asc', 'confidence ↑'],
  ['truth', 'true class'],
] as const)
  sortSel.append(h('option', { value: v }, label));
sortSel.value = sort;
const sliceChip = h('span', { class: 'chip', 'data-role': 'slice-filter', hidden: '' });
const filterBar = h(
  'div',
  { class: 'filters' },
  h('label', {}, 'examples ', sourceSel),
  h('label', {}, errorsOnly, ' errors only'),
  h('label', {}, 'true ', truthSel),
  h('label', {}, 'predicted ', predSel),
  h('label', {}, 'confidence ', minConf, '–', maxConf),
  h('label', {}, 'tag ', tagSel),
  h('label', {}, 'sort ', sortSel),
  sliceChip,
);
const tagInput = h('input', {
  type: 'text',
  placeholder: 'Type a tag for the selected rows, Enter',
  'data-role': 'tag-input',
  list: 'known-tags',
  'aria-label': 'Tag the selected examples',
});
const knownTags = h('datalist', { id: 'known-tags' });
const selectionEl = h('span', { class: 'muted', 'data-role': 'selection' });
const countEl = h('span', { class: 'muted', 'data-role': 'count' });
const tagBar = h('div', { class: 'tagbar' }, tagInput, knownTags, selectionEl, countEl);
const spacer = h('div', { class: 'spacer' });
const scroller = h(
  'div',
  {
    class: 'scroller',
    tabindex: '0',
    'data-role': 'examples',
    role: 'listbox',
    'aria-multiselectable': 'true',
    'aria-label': 'Dev examples',
  },
  spacer,
);
const emptyEl = h('p', { class: 'muted', 'data-role': 'empty', hidden: '' });
const listHead = h('div', { class: 'row head' });
const side = h('div', { class: 'side' });
const main = h('div', { class: 'main' }, filterBar, tagBar, listHead, emptyEl, scroller);
root.append(header, h('div', { class: 'layout' }, main, side));

// ---- list ----
function rowHeight(): number {
  return view?.image ? 76 : 26;
}

function className(v: number): string {
  return view?.classes ? view.classes[v] : String(Number(v.toPrecision(4)));
}

/** The ids of the listed source (dev examples, or the queued production examples). */
function sourceIds(v: ErrorAnalysisView): string[] {
  return source === 'production' ? v.production.ids : v.dev.ids;
}

function refilter(keepScroll = true): void {
  if (!view) return;
  const v = view;
  order =
    source === 'production'
      ? visibleProductionRows(v.production, v.tags, filters, sort)
      : visibleRows(v.dev, v.tags, filters, sort);
  const ids = sourceIds(v);
  orderIds = Array.from(order, (r) => ids[r]);
  spacer.style.height = `${order.length * rowHeight()}px`;
  countEl.textContent =
    source === 'production'
      ? `${order.length} of ${ids.length} queued production examples shown`
      : `${order.length} of ${ids.length} dev examples shown`;
  const hidden = v.production.hidden ? ` (${v.production.hidden} queued of another model not listed)` : '';
  emptyEl.textContent =
    source === 'production' && !ids.length
      ? `No production requests queued${hidden}: Send to Error Analysis in a deployment's Monitoring panel queues its drifted and low-confidence requests here.`
      : '';
  emptyEl.hidden = !emptyEl.textContent;
  if (!keepScroll) scroller.scrollTop = 0;
  cursor = Math.min(cursor, Math.max(0, order.length - 1));
  drawRows();
}

let themeRgb: [number, number, number] = [200, 200, 200];
function readTheme(): void {
  themeRgb = parseCssColor(readThemeColors().foreground);
}

function drawImage(canvas: HTMLCanvasElement, pixels: number[]): void {
  const im = view!.image!;
  const rgba = im.files
    ? photoPixels(pixels, im.width, im.height, im.channels)
    : samplePixels(pixels, im.width, im.height, im.channels, themeRgb);
  canvas.getContext('2d')!.putImageData(new ImageData(rgba, im.width, im.height), 0, 0);
}

function drawRows(): void {
  if (!view) return;
  const v = view;
  const rh = rowHeight();
  const { start, end } = windowOf(scroller.scrollTop, scroller.clientHeight || 600, rh, order.length);
  const frag = document.createDocumentFragment();
  const missing: string[] = [];
  const shownFeatures = v.image ? 0 : Math.min(6, v.featureNames.length);
  const prod = source === 'production' ? v.production : undefined;
  for (let pos = start; pos < end; pos++) {
    const r = order[pos];
    const id = prod ? prod.ids[r] : v.dev.ids[r];
    // A production example is wrong when its feedback label differs from the served prediction.
    const wrong = prod
      ? prod.truth[r] !== null && prod.predicted[r] !== null && prod.truth[r] !== prod.predicted[r]
      : v.dev.wrong[r] === 1;
    const cls = `row${selected.has(id) ? ' selected' : ''}${pos === cursor ? ' cursor' : ''}${wrong ? ' wrong' : ''}`;
    const el = h('div', {
      class: cls,
      role: 'option',
      'aria-selected': String(selected.has(id)),
      'data-id': id,
      'data-pos': String(pos),
    });
    el.style.top = `${pos * rh}px`;
    el.style.height = `${rh}px`;
    const px = features.get(id);
    if (v.image) {
      const canvas = h('canvas', {
        class: 'digit',
        width: String(v.image.width),
        height: String(v.image.height),
        'aria-label': `image of example ${id}`,
      });
      if (px) drawImage(canvas, px);
      el.append(canvas);
    }
    if (!px && !pending.has(id)) missing.push(id);
    const conf = prod ? prod.confidence[r] : v.dev.confidence[r];
    const labelOf = (x: number | null) => (x === null ? '—' : className(x));
    el.append(
      h(
        'span',
        {
          class: 'c-id',
          ...(prod ? { title: `${prod.deployments[r]} request ${prod.refs[r]} at ${prod.times[r]}` } : {}),
        },
        prod ? prod.refs[r] : id,
      ),
      h('span', { class: 'c-truth' }, prod ? labelOf(prod.truth[r]) : className(v.dev.truth[r])),
      h(
        'span',
        { class: `c-pred${wrong ? ' bad' : ''}` },
        prod ? labelOf(prod.predicted[r]) : className(v.dev.predicted[r]),
      ),
      h('span', { class: 'c-conf' }, conf === null || conf !== conf ? '' : conf.toFixed(2)),
      prod
        ? h('span', { class: 'c-loss c-why muted', title: prod.reasons[r] }, prod.reasons[r])
        : h('span', { class: 'c-loss' }, v.dev.loss[r].toFixed(3)),
    );
    if (shownFeatures) {
      const vals = px ?? [];
      const cats = categoriesOf.get(id) ?? [];
      const all = [...vals.map((x) => (Number.isNaN(x) ? '' : String(Number(x.toPrecision(4))))), ...cats];
      el.append(
        h(
          'span',
          { class: 'c-features muted' },
          all
            .slice(0, shownFeatures)
            .map((x, i) => `${v.featureNames[i]}=${x}`)
            .join('  '),
        ),
      );
    }
    // Each tag whole on hover (a narrow column cuts the chips).
    const tags = v.tags[id] ?? [];
    el.append(
      h(
        'span',
        { class: 'c-tags', ...(tags.length ? { title: tags.join(', ') } : {}) },
        ...tags.map((t) => h('span', { class: 'chip small', title: t }, t)),
      ),
    );
    if (prod) el.setAttribute('data-source', 'production');
    frag.append(el);
  }
  for (const old of [...scroller.querySelectorAll('.row')]) old.remove();
  scroller.append(frag);
  if (missing.length) {
    for (const id of missing) pending.add(id);
    channel.post({ type: 'features', requestId: ++requestSeq, ids: missing });
  }
  selectionEl.textContent = selected.size
    ? `${selected.size} selected`
    : 'select rows (click, Shift/Ctrl+click, arrows, Space, Ctrl+A)';
  followCursor();
}

// ---- detail of the image at the cursor: full size, labels, closest training images of each class ----
const detailEl = h('section', { class: 'detail', 'data-role': 'detail' });
/** The dev row shown in the detail (-1: none), and its neighbours once the host sends them. */
let detailRow = -1;
let detailNeighbours: NeighboursView | undefined;
let detailTimer: ReturnType<typeof setTimeout> | undefined;
/** The detail image is drawn this many CSS pixels across at most, scaled by a whole factor (crisp pixels). */
const DETAIL_PX = 196;

function followCursor(): void {
  const v = view;
  const row = v?.image && source === 'dev' && order.length ? order[cursor] : -1;
  if (row === detailRow) return;
  detailRow = row;
  detailNeighbours = undefined;
  drawDetail();
  clearTimeout(detailTimer);
  // Arrow keys held down move the cursor fast: ask only for where it rests.
  if (row >= 0) detailTimer = setTimeout(() => channel.post({ type: 'neighbours', id: v!.dev.ids[row] }), 120);
}

function drawDetail(): void {
  const v = view;
  if (!v?.image || detailRow < 0 || detailRow >= v.dev.ids.length) {
    detailEl.replaceChildren();
    detailEl.hidden = true;
    return;
  }
  detailEl.hidden = false;
  const im = v.image;
  const r = detailRow;
  const id = v.dev.ids[r];
  const scale = Math.max(1, Math.floor(DETAIL_PX / Math.max(im.width, im.height)));
  const big = h('canvas', {
    class: 'detail-image',
    width: String(im.width),
    height: String(im.height),
    'data-role': 'detail-image',
    'aria-label': `image of example ${id}`,
  });
  big.style.width = `${im.width * scale}px`;
  big.style.height = `${im.height * scale}px`;
  const px = features.get(id);
  if (px) drawImage(big, px);
  const truth = v.dev.truth[r];
  const predicted = v.dev.predicted[r];
  const wrong = v.dev.wrong[r] === 1;
  const nb = detailNeighbours?.id === id ? detailNeighbours : undefined;
  const fact = (label: string, value: string, attrs: Record<string, string> = {}) =>
    h('div', {}, h('dt', {}, label), h('dd', attrs, value));
  const facts = h(
    'dl',
    { class: 'detail-facts' },
    fact('example', id),
    ...(nb?.file ? [fact('source', nb.file, { title: nb.file, 'data-role': 'detail-file' })] : []),
    fact('true', className(truth), { 'data-role': 'detail-truth' }),
    fact('predicted', className(predicted), { class: wrong ? 'bad' : '', 'data-role': 'detail-predicted' }),
    fact('confidence', v.dev.confidence[r] === v.dev.confidence[r] ? v.dev.confidence[r].toFixed(3) : '—'),
    fact('loss', v.dev.loss[r].toFixed(3)),
  );
  const neighbours = h('div', { class: 'neighbours', 'data-role': 'neighbours' });
  if (!nb) neighbours.append(h('p', { class: 'muted' }, 'Finding the closest training images…'));
  else if (nb.message) neighbours.append(h('p', { class: 'muted' }, nb.message));
  else {
    // The true and the predicted class first: is it closer to training images of the class it was taken for?
    const classes = v.classes ?? [];
    const ordered = [truth, ...(wrong ? [predicted] : []), ...classes.map((_, c) => c)].filter(
      (c, i, all) => all.indexOf(c) === i && nb.byClass[c]?.length,
    );
    for (const c of ordered) {
      const role = c === truth ? 'true class' : c === predicted ? 'predicted' : '';
      neighbours.append(
        h(
          'div',
          { class: `nb-class${role ? ' marked' : ''}`, 'data-class': classes[c] ?? String(c) },
          h(
            'div',
            { class: 'nb-label' },
            classes[c] ?? String(c),
            role ? h('span', { class: 'muted' }, ` · ${role}`) : '',
          ),
          h(
            'div',
            { class: 'nb-images' },
            ...nb.byClass[c].map((x) => {
              const canvas = h('canvas', {
                class: 'nb-image',
                width: String(im.width),
                height: String(im.height),
                title: `${x.file} · distance ${x.distance.toFixed(3)}`,
                'data-neighbour': x.id,
              });
              drawImage(canvas, x.pixels);
              return canvas;
            }),
          ),
        ),
      );
    }
  }
  detailEl.replaceChildren(
    h('h2', {}, 'Example'),
    h('div', { class: 'detail-top' }, big, facts),
    ...(im.files
      ? [
          button('Find More Like These', 'find-more', () =>
            imageLoop.requestSimilar({
              ids: [...new Set([id, ...[...selected].filter((s) => s !== id)])].slice(0, 500),
            }),
          ),
        ]
      : []),
    h(
      'h3',
      {},
      'Closest training images of each class',
      nb?.kind
        ? h('span', { class: 'muted' }, nb.kind === 'embedding' ? ' (by the model’s embedding)' : ' (by pixels)')
        : '',
    ),
    neighbours,
  );
}

let frame = 0;
scroller.addEventListener('scroll', () => {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    drawRows();
    channel.setUiState({ scrollTop: scroller.scrollTop, sort, source });
  });
});

scroller.addEventListener('click', (e) => {
  const rowEl = (e.target as HTMLElement).closest('.row') as HTMLElement | null;
  if (!rowEl?.dataset.pos) return;
  const pos = Number(rowEl.dataset.pos);
  selected = selectWith(selected, orderIds, pos, anchor, { shift: e.shiftKey, toggle: e.ctrlKey || e.metaKey });
  if (!e.shiftKey) anchor = pos;
  cursor = pos;
  scroller.focus();
  drawRows();
});

function moveCursor(to: number, extend: boolean): void {
  if (!order.length) return;
  cursor = Math.max(0, Math.min(order.length - 1, to));
  if (extend)
    selected = selectWith(selected, orderIds, cursor, anchor < 0 ? cursor : anchor, { shift: true, toggle: false });
  else anchor = cursor;
  const rh = rowHeight();
  if (cursor * rh < scroller.scrollTop) scroller.scrollTop = cursor * rh;
  else if ((cursor + 1) * rh > scroller.scrollTop + scroller.clientHeight)
    scroller.scrollTop = (cursor + 1) * rh - scroller.clientHeight;
  drawRows();
}

scroller.addEventListener('keydown', (e) => {
  const page = Math.max(1, Math.floor(scroller.clientHeight / rowHeight()) - 1);
  if (e.key === 'ArrowDown') moveCursor(cursor + 1, e.shiftKey);
  else if (e.key === 'ArrowUp') moveCursor(cursor - 1, e.shiftKey);
  else if (e.key === 'PageDown') moveCursor(cursor + page, e.shiftKey);
  else if (e.key === 'PageUp') moveCursor(cursor - page, e.shiftKey);
  else if (e.key === 'Home') moveCursor(0, e.shiftKey);
  else if (e.key === 'End') moveCursor(order.length - 1, e.shiftKey);
  else if (e.key === ' ') {
    if (order.length) selected = selectWith(selected, orderIds, cursor, anchor, { shift: false, toggle: true });
    anchor = cursor;
    drawRows();
  } else if (e.key === 'a' && (e.ctrlKey || e.metaKey)) {
    selected = new Set(orderIds);
    drawRows();
  } else if (e.key === 'Escape') {
    selected = new Set();
    drawRows();
  } else if (e.key === 'Enter' || e.key === 't') {
    if (!selected.size && order.length) selected = new Set([orderIds[cursor]]);
    tagInput.focus();
  } else return;
  e.preventDefault();
});

tagInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') {
    const tag = tagInput.value.trim();
    if (!tag || !selected.size) return;
    channel.post({ type: 'tag', ids: [...selected], tag, remove: e.shiftKey });
    tagInput.value = '';
    scroller.focus();
    e.preventDefault();
  } else if (e.key === 'Escape') scroller.focus();
});

function readFilters(): void {
  filters = {
    ...filters,
    errorsOnly: errorsOnly.checked,
    truth: Number(truthSel.value),
    predicted: Number(predSel.value),
    minConfidence: Number(minConf.value) || 0,
    maxConfidence: maxConf.value === '' ? 1 : Number(maxConf.value),
    tag: tagSel.value,
  };
  sort = sortSel.value as SortKey;
  refilter(false);
}
for (const el of [errorsOnly, truthSel, predSel, minConf, maxConf, tagSel, sortSel])
  el.addEventListener('change', readFilters);

/** Lists the dev examples or the queued production examples (filters kept; selection cleared); the caller refilters. */
function showSource(next: ExampleSource): void {
  source = next;
  sourceSel.value = next;
  // Errors only and slices are dev notions.
  errorsOnly.disabled = next === 'production';
  if (next === 'production' && sliceKey) {
    sliceKey = '';
    filters = { ...filters, sliceRows: undefined };
    sliceChip.hidden = true;
  }
  selected = new Set();
  anchor = -1;
  cursor = 0;
  scroller.setAttribute('aria-label', next === 'production' ? 'Queued production examples' : 'Dev examples');
  root.setAttribute('data-source', next);
  drawHead();
}

function setSource(next: ExampleSource): void {
  showSource(next);
  channel.setUiState({ scrollTop: 0, sort, source });
  refilter(false);
}
sourceSel.addEventListener('change', () => setSource(sourceSel.value === 'production' ? 'production' : 'dev'));

function drawHead(): void {
  const v = view;
  if (!v) return;
  listHead.replaceChildren(
    ...(v.image ? [h('span', { class: 'digit-head' }, 'image')] : []),
    h('span', { class: 'c-id' }, source === 'production' ? 'request' : 'example'),
    h('span', { class: 'c-truth' }, source === 'production' ? 'feedback' : 'true'),
    h('span', { class: 'c-pred' }, source === 'production' ? 'served' : 'predicted'),
    h('span', { class: 'c-conf' }, 'conf.'),
    h('span', { class: 'c-loss' }, source === 'production' ? 'why queued' : 'loss'),
    ...(v.image ? [] : [h('span', { class: 'c-features' }, 'features')]),
    h('span', { class: 'c-tags' }, 'tags'),
  );
}

function setSlice(key: string, label: string): void {
  sliceKey = key;
  sliceLabel = label;
  if (!key) {
    filters = { ...filters, sliceRows: undefined };
    sliceChip.hidden = true;
    refilter(false);
  } else {
    // Slices are of the dev split: picking one lists dev.
    if (source === 'production') showSource('dev');
    channel.post({ type: 'sliceRows', key });
  }
}

// ---- side panels ----
function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function countInput(action: string): HTMLInputElement {
  const input = h('input', {
    type: 'number',
    min: '1',
    value: '100',
    class: 'count',
    'data-role': `${action}-count`,
    'aria-label': 'How many synthetic examples',
  });
  return input;
}

/** Images like a tag's or slice's, by the run's embedding (one word: the row keeps one line). */
function similarButton(source: AugmentSourceRef): HTMLElement {
  const b = button('Similar…', 'find-similar', () => imageLoop.requestSimilar(source));
  b.title = 'Find images like these by the model’s embedding (train, dev, unlabelled folder)';
  return b;
}

function sourceActions(source: AugmentSourceRef, name: string): HTMLElement {
  const count = countInput('augment');
  return h(
    'span',
    { class: 'row-actions' },
    count,
    button('Augment…', 'augment', () => {
      const n = Math.max(1, Math.round(Number(count.value) || 1));
      // Image projects see the new images before anything is written.
      if (view?.image?.files) imageLoop.requestPreview(source, n);
      else channel.post({ type: 'augment', source, count: n });
    }),
    ...(view?.image?.files ? [similarButton(source)] : []),
    button('Export…', 'export', () => channel.post({ type: 'export', source })),
    h('span', { hidden: '', 'data-name': name }),
  );
}

function tagTableEl(v: ErrorAnalysisView): HTMLElement {
  const table = h('table', { class: 'grid', 'data-role': 'tag-table' });
  const production = v.tagTable.some((t) => t.production);
  table.append(
    h(
      'tr',
      {},
      h('th', {}, 'tag'),
      h('th', {}, 'dev errors'),
      h('th', {}, 'share of errors'),
      h('th', {}, 'error rate (tagged)'),
      h('th', {}, 'earlier runs'),
      ...(production ? [h('th', {}, 'production')] : []),
      h('th', {}, ''),
    ),
  );
  for (const t of v.tagTable) {
    const name = h('a', { href: '#', 'data-tag': t.tag }, t.tag);
    name.addEventListener('click', (e) => {
      e.preventDefault();
      tagSel.value = t.tag;
      readFilters();
    });
    table.append(
      h(
        'tr',
        { 'data-tag-row': t.tag },
        h('td', {}, name),
        h('td', { class: 'num', 'data-col': 'errors' }, String(t.errors)),
        h('td', { class: 'num', 'data-col': 'share' }, pct(t.shareOfErrors)),
        h('td', { class: 'num' }, `${pct(t.errorRate)} of ${t.tagged}`),
        h(
          'td',
          { class: 'num' },
          t.history?.length ? `${t.history.map((x) => x.errors).join(' → ')} → ${t.errors}` : '—',
        ),
        ...(production
          ? [h('td', { class: 'num', 'data-col': 'production' }, t.production ? String(t.production) : '—')]
          : []),
        h('td', {}, sourceActions({ tag: t.tag }, t.tag)),
      ),
    );
  }
  return h(
    'section',
    {},
    h('h2', {}, 'Tags'),
    v.tagTable.length ? table : h('p', { class: 'muted' }, 'No tags yet: select examples, type a cause, Enter.'),
  );
}

function slicesEl(v: ErrorAnalysisView): HTMLElement {
  const table = h('table', { class: 'grid', 'data-role': 'slices' });
  table.append(
    h(
      'tr',
      {},
      h('th', {}, 'slice'),
      h('th', {}, 'errors'),
      h('th', {}, 'share'),
      h('th', {}, '× avg'),
      h('th', {}, 'support'),
      h('th', {}, ''),
    ),
  );
  for (const s of v.slices.slice(0, 20)) {
    const name = h('a', { href: '#', 'data-slice': s.key }, s.label);
    name.addEventListener('click', (e) => {
      e.preventDefault();
      setSlice(s.key, s.label);
    });
    table.append(
      h(
        'tr',
        {},
        h('td', {}, name),
        h('td', { class: 'num' }, String(s.errors)),
        h('td', { class: 'num' }, pct(s.shareOfErrors)),
        h('td', { class: 'num' }, s.lift.toFixed(2)),
        h('td', { class: 'num' }, String(s.support)),
        h('td', {}, sourceActions({ slice: s.key }, s.label)),
      ),
    );
  }
  const none = v.slicesPending
    ? h('p', { class: 'muted', 'data-role': 'slices-pending' }, 'Finding slices…')
    : h(
        'p',
        { class: 'muted' },
        v.image
          ? 'Pixels are not sliced (a threshold on one pixel means nothing): tag what the errors have in common instead.'
          : 'No slice is worse than average.',
      );
  return h('section', {}, h('h2', {}, 'Slices with more errors than average'), v.slices.length ? table : none);
}

function labelErrorsEl(v: ErrorAnalysisView): HTMLElement {
  const le = v.labelErrors;
  const section = h('section', { 'data-role': 'label-errors' }, h('h2', {}, 'Likely label errors'));
  if (v.task !== 'classification')
    return (section.appendChild(h('p', { class: 'muted' }, 'Classification projects only.')), section);
  if (le.status === 'idle')
    section.append(
      h(
        'p',
        { class: 'muted' },
        v.labelErrorSource === 'dev'
          ? `Ranks the dev examples whose label the model of "${v.experiment}" (which never trained on dev) confidently contradicts.`
          : `Cross-validates "${v.experiment}" (5 folds) and ranks examples whose label the other folds confidently contradict.`,
      ),
      button('Find Likely Label Errors', 'find-label-errors', () => channel.post({ type: 'findLabelErrors' })),
    );
  else if (le.status === 'running')
    section.append(
      h(
        'p',
        {},
        v.labelErrorSource === 'dev'
          ? 'Predicting the dev split…'
          : `Cross-validating: ${le.done} of ${le.total} folds…`,
      ),
    );
  else if (le.status === 'failed') section.append(h('p', { class: 'error' }, le.message));
  else {
    const table = h('table', { class: 'grid' });
    table.append(
      h(
        'tr',
        {},
        h('th', {}, 'example'),
        v.image && le.issues.some((x) => x.file)
          ? h('th', {}, 'file')
          : h('th', { title: "Row of the data file (0-based, as the examples' rowIndex)" }, 'row'),
        h('th', {}, 'split'),
        h('th', {}, 'labelled'),
        h('th', {}, 'looks like'),
        h('th', {}, 'score'),
        h('th', {}, 'wrong?'),
      ),
    );
    for (const x of le.issues.slice(0, 100)) {
      const box = h('input', { type: 'checkbox', 'data-mark': x.id, 'aria-label': `label of ${x.id} is wrong` });
      box.checked = marked.has(x.id);
      box.addEventListener('change', () => (box.checked ? marked.set(x.id, x.suggested) : marked.delete(x.id)));
      const img = v.image
        ? h('canvas', { class: 'digit small', width: String(v.image.width), height: String(v.image.height) })
        : undefined;
      if (img) {
        const px = features.get(x.id);
        if (px) drawImage(img, px);
        else if (!pending.has(x.id))
          (pending.add(x.id), channel.post({ type: 'features', requestId: ++requestSeq, ids: [x.id] }));
        img.setAttribute('data-image-of', x.id);
      }
      table.append(
        h(
          'tr',
          {},
          h('td', {}, ...(img ? [img] : []), x.id),
          x.file
            ? h('td', { class: 'file', title: x.file }, x.file)
            : h(
                'td',
                {
                  class: 'num',
                  title:
                    x.rowIndex === null ? 'added by a derived data version' : `line ${x.rowIndex + 2} of the data file`,
                },
                x.rowIndex === null ? '—' : String(x.rowIndex),
              ),
          h('td', {}, x.split),
          h('td', {}, x.given),
          h('td', {}, x.suggested),
          h('td', { class: 'num' }, x.score.toFixed(2)),
          h('td', {}, box),
        ),
      );
    }
    section.append(
      h(
        'p',
        { class: 'muted' },
        `${le.issues.length} flagged (${le.folds ? `${le.folds}-fold cross-validation` : 'the model’s dev predictions: it never trained on dev'}).`,
      ),
      table,
      button(
        'Fix Marked Labels into a New Version',
        'fix-labels',
        () => marked.size && channel.post({ type: 'fixLabels', fixes: Object.fromEntries(marked) }),
      ),
    );
  }
  return section;
}

function versionsEl(v: ErrorAnalysisView): HTMLElement {
  const section = h('section', { 'data-role': 'versions' }, h('h2', {}, 'Data versions'));
  if (!v.versions.length)
    return (
      section.appendChild(h('p', { class: 'muted' }, 'Augment a tag or slice, add data or fix labels to make one.')),
      section
    );
  const table = h('table', { class: 'grid' });
  for (const d of v.versions) {
    const exp = h('select', { 'aria-label': 'Experiment' });
    for (const e of v.experiments) exp.append(h('option', { value: e }, e));
    exp.value = v.experiment;
    table.append(
      h(
        'tr',
        { 'data-version': d.id },
        h('td', {}, d.id),
        h('td', {}, d.summary),
        h('td', { class: 'muted' }, `on ${d.parent}`),
        h(
          'td',
          {},
          exp,
          button('Train', 'train-version', () => channel.post({ type: 'train', version: d.id, experiment: exp.value })),
        ),
      ),
    );
  }
  section.append(table);
  return section;
}

function fillSelect(sel: HTMLSelectElement, options: [string, string][], value: string): void {
  sel.replaceChildren(...options.map(([v, label]) => h('option', { value: v }, label)));
  sel.value = options.some(([v]) => v === value) ? value : options[0][0];
}

function render(state: ErrorAnalysisState): void {
  if (state.status !== 'loaded') {
    view = undefined;
    loaded = undefined;
    titleEl.textContent = `Error analysis · run ${state.runId}`;
    statsEl.replaceChildren(
      state.status === 'loading'
        ? h('span', { class: 'loading' }, document.createElement('vscode-progress-ring'), 'Predicting the dev split…')
        : h('pre', { class: 'error' }, state.message),
    );
    root.removeAttribute('data-ready');
    return;
  }
  const first = !view || view.runId !== state.view.runId;
  loaded = state;
  const v = (view = state.view);
  titleEl.textContent = `Error analysis · ${v.experiment} · run ${v.runId}`;
  statsEl.replaceChildren(
    ...[
      ['dev examples', String(v.dev.ids.length)],
      ['errors', String(v.errorCount)],
      ['error rate', pct(v.dev.ids.length ? v.errorCount / v.dev.ids.length : 0)],
      ['data version', v.dataVersion],
    ].map(([label, value]) =>
      h(
        'div',
        { class: 'stat' },
        h('span', { class: 'stat-value', 'data-stat': label }, value),
        h('span', { class: 'stat-label' }, label),
      ),
    ),
  );
  busyEl.textContent = state.busy ?? '';
  const classOptions: [string, string][] = [
    ['-1', 'any'],
    ...(v.classes ?? []).map((c, i): [string, string] => [String(i), c]),
  ];
  fillSelect(truthSel, classOptions, truthSel.value || '-1');
  fillSelect(predSel, classOptions, predSel.value || '-1');
  const tagNames = [...new Set(Object.values(v.tags).flat())].sort();
  fillSelect(
    tagSel,
    [['', 'any'], [UNTAGGED, UNTAGGED], ...tagNames.map((t): [string, string] => [t, t])],
    tagSel.value,
  );
  knownTags.replaceChildren(...tagNames.map((t) => h('option', { value: t })));
  fillSelect(
    sourceSel,
    [
      ['dev', 'dev'],
      ['production', `production (${v.production.ids.length} queued)`],
    ],
    source,
  );
  // A filter asked for by the host (a confusion-matrix cell of the Diagnostics panel) replaces the
  // user's filters: exactly that cell's dev examples, from the top of the list.
  let requested = false;
  if (state.filter && state.filter.seq !== lastFilterSeq) {
    requested = true;
    lastFilterSeq = state.filter.seq;
    const idx = (name?: string) => String(name === undefined ? -1 : (v.classes ?? []).indexOf(name));
    truthSel.value = idx(state.filter.truth);
    predSel.value = idx(state.filter.predicted);
    errorsOnly.checked = state.filter.truth === undefined || state.filter.truth !== state.filter.predicted;
    tagSel.value = '';
    minConf.value = '0';
    maxConf.value = '1';
    sliceKey = '';
    sliceChip.hidden = true;
    filters = { ...defaultFilters() };
    source = state.filter.source ?? 'dev';
  }
  if (first || requested) showSource(source);
  else drawHead();
  // The list first (what the user waits for), then the side tables.
  filters = {
    ...filters,
    errorsOnly: errorsOnly.checked,
    truth: Number(truthSel.value),
    predicted: Number(predSel.value),
    tag: tagSel.value,
  };
  root.setAttribute('data-production', String(v.production.ids.length));
  refilter(!first && !requested);
  if (first) {
    const saved = channel.getUiState();
    if (saved && !requested && saved.scrollTop) ((scroller.scrollTop = saved.scrollTop), drawRows());
  }
  side.replaceChildren(
    ...(v.image ? [detailEl] : []),
    ...(v.image?.files ? [imageLoop.augmentEl, imageLoop.similarEl] : []),
    tagTableEl(v),
    slicesEl(v),
    ...(v.image?.files ? [imageLoop.mapEl] : []),
    labelErrorsEl(v),
    versionsEl(v),
  );
  root.setAttribute('data-ready', 'true');
  root.setAttribute('data-open-ms', String(v.openMs));
}

/** A delta of the loaded view (tags, tag table, …): merged, then drawn like a state without the dev columns travelling again. */
function applyUpdate(u: ErrorAnalysisUpdate): void {
  if (!loaded || !view) return;
  if (u.tags) applyTagDelta(view.tags, u.tags);
  if (u.tagTable) view.tagTable = u.tagTable;
  if (u.slices) ((view.slices = u.slices), delete view.slicesPending);
  if (u.labelErrors) view.labelErrors = u.labelErrors;
  if (u.versions) view.versions = u.versions;
  const busy = u.busy !== undefined ? u.busy || undefined : loaded.busy;
  const filter = u.filter ?? loaded.filter;
  render({ status: 'loaded', view, ...(filter ? { filter } : {}), ...(busy ? { busy } : {}) });
}

/** The embedding map's drawn box: only these dev rows are listed (a filter like a slice's). */
function selectMapRows(rows: number[] | undefined, label: string): void {
  sliceKey = '';
  if (!rows) return setSlice('', '');
  if (source === 'production') showSource('dev');
  filters = { ...filters, sliceRows: new Set(rows) };
  sliceChip.replaceChildren(
    `${label} `,
    button('×', 'clear-slice', () => setSlice('', '')),
  );
  sliceChip.hidden = false;
  refilter(false);
}

const imageLoop = createImageLoop({
  post: (m) => channel.post(m),
  view: () => view,
  drawImage: (canvas, pixels) => drawImage(canvas, pixels),
  selectRows: selectMapRows,
});

function onMessage(m: ErrorAnalysisHostMessage): void {
  if (m.type === 'state') return render(m.state);
  if (imageLoop.onMessage(m)) return;
  // An update of another load (or of a state this page never got) is ignored: the next state carries it.
  if (m.type === 'update') return view?.runId === m.runId && view.load === m.load ? applyUpdate(m.update) : undefined;
  if (m.type === 'features') {
    m.ids.forEach((id, i) => {
      pending.delete(id);
      features.set(id, m.numeric[i]);
      categoriesOf.set(id, m.categories[i]);
    });
    drawRows();
    if (view?.image && detailRow >= 0 && m.ids.includes(view.dev.ids[detailRow])) drawDetail();
    if (view?.image)
      for (const c of document.querySelectorAll<HTMLCanvasElement>('canvas[data-image-of]')) {
        const px = features.get(c.dataset.imageOf!);
        if (px) drawImage(c, px);
      }
    return;
  }
  if (m.type === 'neighbours') {
    if (view?.image && detailRow >= 0 && view.dev.ids[detailRow] === m.result.id) {
      detailNeighbours = m.result;
      drawDetail();
    }
    return;
  }
  if (m.type === 'sliceRows' && m.key === sliceKey) {
    filters = { ...filters, sliceRows: new Set(m.rows) };
    sliceChip.replaceChildren(
      `slice: ${sliceLabel} `,
      button('×', 'clear-slice', () => setSlice('', '')),
    );
    sliceChip.hidden = false;
    refilter(false);
  }
}

readTheme();
onThemeChange(() => {
  readTheme();
  drawRows();
  imageLoop.onTheme();
});
window.addEventListener('resize', () => drawRows());
