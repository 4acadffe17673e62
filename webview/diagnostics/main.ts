// The Diagnostics panel webview: draws the RunDiagnosis the host sends, with chart.js configs built
// by src/core/diagnose/charts.ts from the theme's colours. It computes nothing about the model.
import { Chart, registerables, type ChartConfiguration } from 'chart.js';
import {
  biasVarianceChart,
  calibrationChart,
  classCurvesChart,
  confusionHeatmap,
  errorHistogramChart,
  importanceChart,
  learningCurveChart,
  residualsChart,
  validationCurveChart,
} from '../../src/core/diagnose/charts';
import { formatError, formatGap } from '../../src/core/diagnose/biasVariance';
import type { CellImages, RunDiagnosis } from '../../src/core/diagnose/diagnoseRun';
import { photoPixels } from '../data/charts';
import type { ClassificationSplitReport, SplitReport } from '../../src/core/diagnose/metrics';
import {
  isDiagnosticsHostMessage,
  type DiagnosticsHostMessage,
  type DiagnosticsPanelState,
  type DiagnosticsWebviewMessage,
  type JobState,
} from '../../src/protocol/diagnostics';
import { connect, dataGrid, onThemeChange, readThemeColors, registerToolkit } from '../shared';

Chart.register(...registerables);
registerToolkit();

const root = document.getElementById('root')!;
// Tells tests (and other webviews' page objects) which panel this is.
root.dataset.panel = 'diagnostics';
let state: DiagnosticsPanelState | undefined;
let charts: Chart[] = [];
let pending: (() => void)[] = [];
let chosenParam: string | undefined;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

function button(label: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLElement {
  const b = document.createElement('vscode-button');
  for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
  b.append(label);
  b.addEventListener('click', onClick);
  return b;
}

function chart(config: ChartConfiguration, label: string, cls = 'chart'): HTMLElement {
  const canvas = h('canvas', { role: 'img', 'aria-label': label });
  pending.push(() => charts.push(new Chart(canvas, config)));
  return h('div', { class: cls }, canvas);
}

function card(title: string, ...children: (Node | string)[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}

function jobControls(
  job: JobState,
  what: string,
  start: () => void,
  cancel: () => void,
  startLabel: string,
): HTMLElement {
  if (job.status === 'running') {
    return h(
      'div',
      { class: 'job' },
      document.createElement('vscode-progress-ring'),
      h('span', {}, `${what}: ${job.done} of ${job.total} trainings`),
      button('Cancel', cancel, { appearance: 'secondary', 'data-action': `cancel-${what}` }),
    );
  }
  const note =
    job.status === 'failed'
      ? h('span', { class: 'failed' }, job.message)
      : job.status === 'cancelled'
        ? h('span', { class: 'muted' }, 'Cancelled.')
        : '';
  return h('div', { class: 'job' }, button(startLabel, start, { 'data-action': `start-${what}` }), note);
}

function verdictSection(d: RunDiagnosis, colors: ReturnType<typeof readThemeColors>): HTMLElement {
  const v = d.verdict;
  const gap = (label: string, value: number | null) =>
    h(
      'div',
      { class: 'stat' },
      h('span', { class: 'stat-value' }, value === null ? '—' : formatGap(v.metric, value)),
      h('span', { class: 'stat-label' }, label),
    );
  return h(
    'section',
    { class: 'card verdict-card' },
    h(
      'div',
      { class: 'verdict-text' },
      h('h2', {}, 'Bias and variance'),
      h('p', { class: `verdict ${v.severity}`, 'data-dominant': v.dominant }, v.summary),
      h(
        'div',
        { class: 'stats' },
        gap('avoidable bias', v.avoidableBias),
        gap('variance', v.variance),
        gap('dev/test mismatch', v.mismatch),
      ),
      ...v.notes.map((n) => h('p', { class: 'note' }, n)),
      h('h3', {}, 'What to try next'),
      h('ol', { class: 'recommendations' }, ...v.recommendations.map((r) => h('li', {}, r.text))),
    ),
    chart(biasVarianceChart(v, colors), 'baseline, train, dev and test error', 'chart bars'),
  );
}

/** The confusion matrix; with `linked` (the dev split, which Error Analysis lists) its cells open Error Analysis. */
function confusionTable(r: ClassificationSplitReport, linked: boolean, images?: CellImages): HTMLElement {
  const cells = confusionHeatmap(r.confusion);
  // Image runs: a click shows the cell's dev images under the matrix, with the way on to Error Analysis.
  const shown = h('div', { class: 'cell-images' });
  const head = h(
    'tr',
    {},
    h('th', { class: 'corner' }, 'true ↓ / predicted →'),
    ...r.perClass.map((c) => h('th', {}, c.class)),
  );
  const rows = cells.map((row, t) =>
    h(
      'tr',
      {},
      h('th', {}, r.perClass[t].class),
      ...row.map((c, p) => {
        const truth = r.perClass[t].class;
        const predicted = r.perClass[p].class;
        const td = h(
          'td',
          {
            class: c.correct ? 'diag' : c.count ? 'off' : 'zero',
            title: `${c.count} rows (${(c.share * 100).toFixed(1)}% of ${truth})${linked && c.count ? ': click to see them in Error Analysis' : ''}`,
            'data-truth': truth,
            'data-predicted': predicted,
          },
          String(c.count),
        );
        if (linked && c.count) {
          // Opens Error Analysis filtered to this cell (true class, predicted class).
          td.tabIndex = 0;
          td.setAttribute('role', 'button');
          td.classList.add('clickable');
          const open = images
            ? () => shown.replaceChildren(...cellImagesView(images, `${t}:${p}`, truth, predicted))
            : () => channel.post({ type: 'openErrors', truth, predicted });
          td.addEventListener('click', open);
          td.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), open()));
        }
        // A few errors must still show: any non-empty cell gets at least a fifth of the colour.
        td.style.setProperty('--share', `${c.count ? Math.max(20, Math.round(Math.min(1, c.share) * 75)) : 0}%`);
        return td;
      }),
    ),
  );
  const table = h('table', { class: 'heatmap' }, h('thead', {}, head), h('tbody', {}, ...rows));
  return images ? h('div', {}, table, shown) : table;
}

/** The thumbnails of one confusion-matrix cell and a button that lists all of its examples in Error Analysis. */
function cellImagesView(images: CellImages, key: string, truth: string, predicted: string): Node[] {
  // Cell images come only from image files (rows.images): drawn as they are.
  const canvases = (images.cells[key] ?? []).map((px) => {
    const c = h('canvas', {
      class: 'cell-image',
      width: String(images.width),
      height: String(images.height),
      'aria-label': `${truth} predicted as ${predicted}`,
    });
    c.getContext('2d')!.putImageData(
      new ImageData(photoPixels(px, images.width, images.height, images.channels), images.width, images.height),
      0,
      0,
    );
    return c;
  });
  const open = document.createElement('vscode-button');
  open.setAttribute('appearance', 'secondary');
  open.textContent = 'Open in Error Analysis';
  open.addEventListener('click', () => channel.post({ type: 'openErrors', truth, predicted }));
  return [
    h('div', { class: 'cell-images-title' }, `${truth} → ${predicted}`),
    h('div', { class: 'cell-images-row' }, ...canvases),
    open,
  ];
}

function perClassTable(r: ClassificationSplitReport): HTMLElement {
  const fmt = (x: number) => x.toFixed(3);
  const rows = [
    ...r.perClass.map((c) => ({
      class: c.class,
      precision: fmt(c.precision),
      recall: fmt(c.recall),
      f1: fmt(c.f1),
      support: c.support,
    })),
    {
      class: 'macro avg',
      precision: fmt(r.macro.precision),
      recall: fmt(r.macro.recall),
      f1: fmt(r.macro.f1),
      support: r.n,
    },
    {
      class: 'weighted avg',
      precision: fmt(r.weighted.precision),
      recall: fmt(r.weighted.recall),
      f1: fmt(r.weighted.f1),
      support: r.n,
    },
  ];
  return dataGrid(
    ['class', 'precision', 'recall', 'f1', 'support'].map((k) => ({ columnDataKey: k, title: k })),
    rows,
    '1fr 1fr 1fr 1fr 1fr',
  );
}

function splitSummary(d: RunDiagnosis): HTMLElement {
  const line = (name: string, r: SplitReport | undefined) => {
    if (!r) return undefined;
    if (r.task === 'classification')
      return h(
        'tr',
        {},
        h('th', {}, name),
        h('td', {}, String(r.n)),
        h('td', {}, `${(r.accuracy * 100).toFixed(2)}%`),
        h('td', {}, r.macro.f1.toFixed(3)),
        h('td', {}, r.logloss.toFixed(4)),
        h('td', {}, r.rocAuc === null ? '—' : r.rocAuc.toFixed(4)),
      );
    return h(
      'tr',
      {},
      h('th', {}, name),
      h('td', {}, String(r.n)),
      h('td', {}, r.rmse.toPrecision(4)),
      h('td', {}, r.mae.toPrecision(4)),
      h('td', {}, r.r2.toFixed(4)),
    );
  };
  const head =
    d.project.task === 'classification'
      ? ['split', 'rows', 'accuracy', 'macro F1', 'log loss', 'ROC AUC']
      : ['split', 'rows', 'RMSE', 'MAE', 'R²'];
  const rows = [line('train', d.splits.train), line('dev', d.splits.dev), line('test', d.splits.test)].filter(
    (x): x is HTMLTableRowElement => !!x,
  );
  return h(
    'table',
    { class: 'metrics' },
    h('thead', {}, h('tr', {}, ...head.map((t) => h('th', {}, t)))),
    h('tbody', {}, ...rows),
  );
}

function render(): void {
  for (const c of charts) c.destroy();
  charts = [];
  pending = [];
  root.removeAttribute('data-ready');
  if (!state) return;
  if (state.status === 'loading') {
    root.replaceChildren(
      h(
        'div',
        { class: 'loading' },
        document.createElement('vscode-progress-ring'),
        h('span', {}, `Diagnosing run ${state.runId}…`),
      ),
    );
    return;
  }
  if (state.status === 'error') {
    root.replaceChildren(
      h(
        'div',
        { class: 'error' },
        h('h2', {}, `Could not diagnose run ${state.runId}`),
        h('pre', {}, state.message),
        button('Try again', () => channel.post({ type: 'refresh' })),
      ),
    );
    root.dataset.ready = 'error';
    return;
  }
  const st = state;
  const d = st.diagnosis;
  const colors = readThemeColors();
  const v = d.verdict;
  const evalSplit = d.splits.dev ?? d.splits.train;
  const evalName = d.splits.dev ? 'dev' : 'train';
  const sections: HTMLElement[] = [];
  sections.push(
    h(
      'header',
      {},
      h(
        'div',
        { class: 'title-row' },
        h('h1', {}, `${d.experiment} · run ${d.runId}`),
        h(
          'div',
          { class: 'actions' },
          button('Open experiment', () => channel.post({ type: 'openExperiment' }), { appearance: 'secondary' }),
          button('Refresh', () => channel.post({ type: 'refresh' }), { appearance: 'secondary' }),
        ),
      ),
      h(
        'p',
        { class: 'muted' },
        `${d.project.name} · ${d.model} · metric ${d.project.metric} · data ${d.dataVersion} · baseline ${v.baselineAssumed ? 'not set (assumed 0)' : formatError(v.metric, v.baseline) + (v.baselineSource ? ` (${v.baselineSource})` : '')}`,
      ),
      splitSummary(d),
    ),
    verdictSection(d, colors),
  );
  const lc = d.learningCurve;
  sections.push(
    card(
      'Learning curve',
      lc
        ? chart(
            learningCurveChart(lc, v.baseline, colors),
            'train and dev error against training-set size',
            'chart wide',
          )
        : h(
            'p',
            { class: 'muted' },
            'The experiment retrained on 10 %, 20 %, …, 100 % of the training split shows whether more data will help.',
          ),
      lc
        ? h(
            'p',
            { class: 'muted' },
            `${lc.points.length} trainings in ${(lc.durationMs / 1000).toFixed(1)} s (cached with the run).`,
          )
        : '',
      lc
        ? ''
        : jobControls(
            st.learningCurve,
            'learning-curve',
            () => channel.post({ type: 'computeLearningCurve' }),
            () => channel.post({ type: 'cancelLearningCurve' }),
            'Compute learning curve',
          ),
    ),
  );
  if (st.sweepable.length) {
    const select = h(
      'select',
      { 'aria-label': 'parameter to sweep' },
      ...st.sweepable.map((p) =>
        h('option', { value: p, ...(p === (chosenParam ?? st.validation?.param) ? { selected: '' } : {}) }, p),
      ),
    );
    select.addEventListener('change', () => (chosenParam = select.value));
    sections.push(
      card(
        'Validation curve',
        h(
          'div',
          { class: 'job-row' },
          h('label', {}, 'Parameter ', select),
          jobControls(
            st.validationCurve,
            'validation-curve',
            () => channel.post({ type: 'computeValidationCurve', param: select.value }),
            () => channel.post({ type: 'cancelValidationCurve' }),
            'Sweep',
          ),
        ),
        st.validation
          ? chart(
              validationCurveChart(st.validation, v.baseline, colors),
              `train and dev error against ${st.validation.param}`,
              'chart wide',
            )
          : '',
      ),
    );
  }
  if (evalSplit.task === 'classification') {
    sections.push(
      h(
        'div',
        { class: 'grid2' },
        card(
          `Confusion matrix (${evalName})`,
          confusionTable(evalSplit, evalName === 'dev', evalName === 'dev' ? d.cellImages : undefined),
        ),
        card(`Per-class metrics (${evalName})`, perClassTable(evalSplit)),
      ),
      h(
        'div',
        { class: 'grid3' },
        card(
          `ROC${evalSplit.roc.length > 1 ? ' (one vs rest)' : ''}`,
          chart(classCurvesChart(evalSplit.roc, 'roc', colors), 'ROC curves', 'chart square'),
        ),
        card(
          'Precision-recall',
          chart(classCurvesChart(evalSplit.pr, 'pr', colors), 'precision-recall curves', 'chart square'),
        ),
        card('Calibration', chart(calibrationChart(evalSplit, colors), 'reliability curve', 'chart square')),
      ),
    );
  } else {
    sections.push(
      h(
        'div',
        { class: 'grid2' },
        card(
          `Residuals (${evalName})`,
          chart(residualsChart(evalSplit, colors), 'residuals against predictions', 'chart square'),
        ),
        card(
          `Error distribution (${evalName})`,
          chart(errorHistogramChart(evalSplit, colors), 'histogram of residuals', 'chart square'),
        ),
      ),
    );
  }
  if (d.importance) {
    sections.push(
      card(
        'Permutation feature importance (dev)',
        chart(importanceChart(d.importance, colors), 'feature importance', 'chart tall'),
        h(
          'p',
          { class: 'muted' },
          `Error increase when a feature is shuffled, mean of ${d.importance.repeats} shuffles over ${d.importance.rows} rows. Features near 0 can go.`,
        ),
      ),
    );
  }
  root.replaceChildren(...sections);
  for (const make of pending) make();
  pending = [];
  root.dataset.charts = String(charts.length);
  root.dataset.dominant = v.dominant;
  requestAnimationFrame(() => (root.dataset.ready = 'true'));
}

const channel = connect<DiagnosticsHostMessage, DiagnosticsWebviewMessage>(isDiagnosticsHostMessage, (m) => {
  state = m.state;
  render();
});
onThemeChange(render);
