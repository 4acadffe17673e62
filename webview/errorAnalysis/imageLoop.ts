// The image loop of the Error Analysis webview: Augment… with a preview grid (proposed transforms,
// why each, the first new images before → after) before anything is written; images like an error,
// a tag or a slice (train, dev, the unlabelled folder, whose picks can be labelled and added); and
// the embedding map, where a drawn box selects its images into the list. The host computes; this draws.
import { Chart, Legend, LinearScale, PointElement, ScatterController, Tooltip } from 'chart.js';
import { embeddingMapChart, pointsInBox, type MapColouring } from '../../src/core/analysis/embeddingMapChart';
import type {
  AugmentPreviewView,
  AugmentSourceRef,
  EmbeddingMapView,
  ErrorAnalysisHostMessage,
  ErrorAnalysisView,
  ErrorAnalysisWebviewMessage,
  SimilarImageView,
  SimilarSourceRef,
  SimilarView,
  TransformProposalView,
} from '../../src/protocol/errorAnalysis';
import { readThemeColors } from '../shared';
import { button, h } from '../shared/dom';

Chart.register(ScatterController, PointElement, LinearScale, Tooltip, Legend);

export interface ImageLoopDeps {
  post: (m: ErrorAnalysisWebviewMessage) => void;
  view: () => ErrorAnalysisView | undefined;
  drawImage: (canvas: HTMLCanvasElement, pixels: number[]) => void;
  /** Lists only these dev rows (undefined: no such filter), named `label` in the filter bar. */
  selectRows: (rows: number[] | undefined, label: string) => void;
}

const sourceName = (s: SimilarSourceRef) =>
  'ids' in s
    ? s.ids.length === 1
      ? `example ${s.ids[0]}`
      : `${s.ids.length} examples`
    : 'tag' in s
      ? `tag "${s.tag}"`
      : `slice ${s.slice}`;

function rangeText(p: TransformProposalView): string {
  if (!p.range) return '';
  const [a, b] = p.range;
  switch (p.op) {
    case 'rotate':
      return ` ±${b}°`;
    case 'shift':
      return ` ±${Math.round(b * 100)}%`;
    case 'crop':
      return ` keep ${Math.round(a * 100)}–${Math.round(b * 100)}%`;
    case 'blur':
      return ` σ ${a}–${b} px`;
    case 'noise':
      return ` σ ${a}–${b}`;
    default:
      return ` ×${a.toFixed(2)}–${b.toFixed(2)}`;
  }
}

export function createImageLoop(deps: ImageLoopDeps) {
  const augmentEl = h('section', { 'data-role': 'augment-preview', hidden: '' });
  const similarEl = h('section', { 'data-role': 'similar', hidden: '' });
  const mapEl = h('section', { 'data-role': 'embedding-map' });
  let request: { source: AugmentSourceRef; count: number; seed: number } | undefined;
  let mapChart: Chart | undefined;
  let map: Extract<EmbeddingMapView, { ids: string[] }> | undefined;
  let colouring: MapColouring = 'class';
  let selectedRows = new Set<number>();

  const canvasOf = (pixels: number[], attrs: Record<string, string> = {}) => {
    const im = deps.view()!.image!;
    const c = h('canvas', { class: 'nb-image', width: String(im.width), height: String(im.height), ...attrs });
    if (pixels.length) deps.drawImage(c, pixels);
    return c;
  };

  // ---- Augment… ----
  function requestPreview(source: AugmentSourceRef, count: number, proposals?: TransformProposalView[]): void {
    request = { source, count, seed: 0 };
    augmentEl.hidden = false;
    augmentEl.replaceChildren(
      h('h2', {}, `Augment ${sourceName(source)}`),
      h('p', { class: 'muted', 'data-role': 'augment-status' }, 'Planning and rendering a preview…'),
    );
    augmentEl.scrollIntoView({ block: 'nearest' });
    deps.post({ type: 'augmentPreview', source, count, seed: 0, ...(proposals ? { proposals } : {}) });
  }

  function showPreview(r: AugmentPreviewView): void {
    if (!request || JSON.stringify(r.source) !== JSON.stringify(request.source)) return;
    const title = h('h2', {}, `Augment ${sourceName(r.source)}`);
    if ('message' in r) {
      augmentEl.replaceChildren(
        title,
        h('p', { class: 'error', 'data-role': 'augment-error' }, r.message),
        button('Close', 'augment-close', () => (augmentEl.hidden = true)),
      );
      return;
    }
    const fmt = (m: { brightness: number; contrast: number; sharpness: number }) =>
      `brightness ${m.brightness.toFixed(2)}, contrast ${m.contrast.toFixed(2)}, sharpness ${m.sharpness.toFixed(1)}`;
    const checks = r.proposals.map((p) => {
      const box = h('input', { type: 'checkbox', 'data-op': p.op });
      box.checked = true;
      return { p, box };
    });
    const chosen = () => checks.filter((c) => c.box.checked).map((c) => c.p);
    const grid = h('div', { class: 'preview-grid', 'data-role': 'preview-grid' });
    for (const img of r.images)
      grid.append(
        h(
          'figure',
          { class: 'preview-pair', title: `${img.file}: ${img.transforms}` },
          h(
            'div',
            { class: 'pair' },
            canvasOf(img.before),
            h('span', { class: 'muted' }, '→'),
            canvasOf(img.after, { 'data-role': 'preview-after' }),
          ),
          h('figcaption', { class: 'muted' }, `${img.label}: ${img.transforms}`),
        ),
      );
    augmentEl.replaceChildren(
      title,
      h(
        'p',
        { class: 'muted' },
        `${r.kindExamples} image(s) of the ${'tag' in r.source ? 'tag' : 'slice'} measure ${fmt(r.kind)}; the ${r.sources} training image(s) drawn from (${r.sourcesAre === 'kind' ? 'its own' : 'its classes'}) measure ${fmt(r.training)}.`,
      ),
      h(
        'ul',
        { class: 'proposals', 'data-role': 'proposals' },
        ...checks.map(({ p, box }) =>
          h(
            'li',
            {},
            h('label', {}, box, ` ${p.op}${rangeText(p)} · ${Math.round(p.probability * 100)}% of images`),
            h('span', { class: 'muted' }, ` — ${p.why}`),
          ),
        ),
      ),
      grid,
      h(
        'p',
        { class: 'muted' },
        `The first ${r.images.length} of ${r.count} new images (model size). They are written as PNG files in a new data version; your images are not changed.`,
      ),
      h(
        'div',
        { class: 'row-actions' },
        button(
          `Write ${r.count} Images as a New Data Version`,
          'augment-write',
          () => {
            const proposals = chosen();
            deps.post({ type: 'augment', source: r.source, count: r.count, seed: r.seed, proposals });
            augmentEl.hidden = true;
          },
          'primary',
        ),
        button('Preview Again', 'augment-repreview', () => requestPreview(r.source, r.count, chosen())),
        button('Cancel', 'augment-cancel', () => (augmentEl.hidden = true)),
      ),
    );
  }

  // ---- Find more like these ----
  function requestSimilar(source: SimilarSourceRef): void {
    similarEl.hidden = false;
    similarEl.replaceChildren(
      h('h2', {}, `Images like ${sourceName(source)}`),
      h('p', { class: 'muted', 'data-role': 'similar-status' }, 'Embedding and searching…'),
    );
    similarEl.scrollIntoView({ block: 'nearest' });
    deps.post({ type: 'similar', source, k: 8 });
  }

  function showSimilar(r: SimilarView): void {
    const title = h('h2', {}, `Images like ${sourceName(r.source)}`);
    if ('message' in r) {
      similarEl.replaceChildren(title, h('p', { class: 'error', 'data-role': 'similar-error' }, r.message));
      return;
    }
    const classes = deps.view()?.classes ?? [];
    const strip = (place: string, list: SimilarImageView[]) =>
      h(
        'div',
        { class: 'nb-images', 'data-similar': place },
        ...list.map((x) =>
          canvasOf(x.pixels, {
            title: `${x.file}${x.label ? ` · ${x.label}` : ''} · distance ${x.distance.toFixed(3)}`,
            'data-file': x.file,
          }),
        ),
      );
    const picks: { file: string; box: HTMLInputElement; label: HTMLSelectElement }[] = [];
    const unlabelled = h('div', { class: 'nb-images', 'data-similar': 'unlabelled' });
    for (const x of r.unlabelled) {
      const box = h('input', { type: 'checkbox', 'aria-label': `pick ${x.file}` });
      const label = h(
        'select',
        { 'aria-label': `label of ${x.file}` },
        h('option', { value: '' }, 'class…'),
        ...classes.map((c) => h('option', { value: c }, c)),
      );
      label.addEventListener('change', () => (box.checked = label.value !== ''));
      picks.push({ file: x.file, box, label });
      unlabelled.append(
        h(
          'figure',
          { class: 'pick', 'data-file': x.file },
          canvasOf(x.pixels, { title: `${x.file} · distance ${x.distance.toFixed(3)}` }),
          h('div', {}, box, label),
        ),
      );
    }
    const add = button('Add Picked to a New Data Version', 'add-picked', () => {
      const chosen = picks
        .filter((p) => p.box.checked && p.label.value)
        .map((p) => ({ file: p.file, label: p.label.value }));
      if (chosen.length) deps.post({ type: 'addImages', picks: chosen });
    });
    similarEl.replaceChildren(
      title,
      h('h3', {}, 'Training set'),
      r.train.length ? strip('train', r.train) : h('p', { class: 'muted' }, 'none'),
      h('h3', {}, 'Dev set'),
      r.dev.length ? strip('dev', r.dev) : h('p', { class: 'muted' }, 'none'),
      h('h3', {}, 'Unlabelled folder'),
      ...(r.unlabelled.length
        ? [
            unlabelled,
            h(
              'p',
              { class: 'muted' },
              'Pick images and give each a class: they are copied into a new data version for training.',
            ),
            add,
          ]
        : [
            h(
              'p',
              { class: 'muted' },
              r.hasUnlabelled
                ? 'No readable image in it.'
                : 'Name a folder of unlabelled images in mlloop.json ("data": { "unlabelled": "incoming/" }) to search it too.',
            ),
          ]),
      ...(r.skipped.length ? [h('p', { class: 'muted' }, `Skipped: ${r.skipped.slice(0, 3).join('; ')}`)] : []),
    );
  }

  // ---- Embedding map ----
  function drawMapIdle(): void {
    mapChart?.destroy();
    mapChart = undefined;
    map = undefined;
    mapEl.replaceChildren(
      h('h2', {}, 'Embedding map'),
      h(
        'p',
        { class: 'muted' },
        'The dev images placed by the model’s embedding (UMAP); draw a box to list its images.',
      ),
      button('Draw Embedding Map', 'embedding-map', () => {
        mapEl.replaceChildren(
          h('h2', {}, 'Embedding map'),
          h('p', { class: 'muted', 'data-role': 'map-status' }, 'Embedding the dev images and projecting them…'),
        );
        deps.post({ type: 'embeddingMap' });
      }),
    );
  }

  function renderChart(canvas: HTMLCanvasElement): void {
    mapChart?.destroy();
    mapChart = new Chart(
      canvas,
      embeddingMapChart({ runId: '', ...map! }, colouring, readThemeColors(), selectedRows) as never,
    );
  }

  function showMap(r: EmbeddingMapView): void {
    if ('message' in r) {
      mapEl.replaceChildren(
        h('h2', {}, 'Embedding map'),
        h('p', { class: 'error', 'data-role': 'map-error' }, r.message),
      );
      return;
    }
    map = r;
    selectedRows = new Set();
    const colourSel = h(
      'select',
      { 'aria-label': 'Colour by', 'data-role': 'map-colour' },
      h('option', { value: 'class' }, 'class'),
      h('option', { value: 'correct' }, 'correct / wrong'),
    );
    colourSel.value = colouring;
    const canvas = h('canvas', {
      'data-role': 'map-canvas',
      role: 'img',
      'aria-label': 'embedding map of the dev images',
    });
    const brush = h('div', { class: 'brush', hidden: '' });
    const box = h('div', { class: 'map-box' }, canvas, brush);
    const status = h('span', { class: 'muted', 'data-role': 'map-selection' }, 'Drag on the map to select images.');
    colourSel.addEventListener('change', () => {
      colouring = colourSel.value as MapColouring;
      renderChart(canvas);
    });
    let start: { x: number; y: number } | undefined;
    const local = (e: MouseEvent) => {
      const b = canvas.getBoundingClientRect();
      return { x: e.clientX - b.left, y: e.clientY - b.top };
    };
    canvas.addEventListener('mousedown', (e) => {
      start = local(e);
      brush.hidden = false;
      Object.assign(brush.style, { left: `${start.x}px`, top: `${start.y}px`, width: '0px', height: '0px' });
    });
    canvas.addEventListener('mousemove', (e) => {
      if (!start) return;
      const p = local(e);
      Object.assign(brush.style, {
        left: `${Math.min(start.x, p.x)}px`,
        top: `${Math.min(start.y, p.y)}px`,
        width: `${Math.abs(p.x - start.x)}px`,
        height: `${Math.abs(p.y - start.y)}px`,
      });
    });
    const finish = (e: MouseEvent) => {
      if (!start || !mapChart) return;
      const p = local(e);
      const from = start;
      start = undefined;
      brush.hidden = true;
      if (Math.abs(p.x - from.x) < 3 && Math.abs(p.y - from.y) < 3) return;
      const sx = mapChart.scales.x;
      const sy = mapChart.scales.y;
      const rows = pointsInBox(map!, {
        x0: sx.getValueForPixel(from.x)!,
        x1: sx.getValueForPixel(p.x)!,
        y0: sy.getValueForPixel(from.y)!,
        y1: sy.getValueForPixel(p.y)!,
      });
      selectedRows = new Set(rows);
      renderChart(canvas);
      const wrong = rows.filter((i) => map!.wrong[i]).length;
      status.textContent = `${rows.length} image(s) selected (${wrong} wrong): listed on the left.`;
      deps.selectRows(rows, `map selection (${rows.length})`);
    };
    canvas.addEventListener('mouseup', finish);
    canvas.addEventListener('mouseleave', (e) => start && finish(e));
    mapEl.replaceChildren(
      h('h2', {}, 'Embedding map'),
      h(
        'div',
        { class: 'row-actions' },
        h('label', {}, 'colour by ', colourSel),
        button('Clear Selection', 'map-clear', () => {
          selectedRows = new Set();
          renderChart(canvas);
          status.textContent = 'Drag on the map to select images.';
          deps.selectRows(undefined, '');
        }),
      ),
      box,
      status,
    );
    // Created once in the page, so chart.js sees the box's size.
    requestAnimationFrame(() => renderChart(canvas));
  }

  drawMapIdle();
  return {
    augmentEl,
    similarEl,
    mapEl,
    requestPreview,
    requestSimilar,
    /** Re-draws the map in the theme's colours. */
    onTheme: () => mapChart && map && renderChart(mapChart.canvas),
    /** Handles the image-loop messages; false for others. */
    onMessage(m: ErrorAnalysisHostMessage): boolean {
      if (m.type === 'augmentPreview') showPreview(m.result);
      else if (m.type === 'similar') showSimilar(m.result);
      else if (m.type === 'embeddingMap') showMap(m.result);
      else return false;
      return true;
    },
  };
}
