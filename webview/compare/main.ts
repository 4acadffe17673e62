// The Compare panel webview: the comparison table (differences highlighted, best value marked),
// the runs' curves overlaid, and each run's dev errors per tag and per slice, from the host's
// snapshot. Configurations come from src/core/track.
import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Title, Tooltip } from 'chart.js';
import { compareChart, type CompareSeries } from '../../src/core/track/charts';
import type { CompareRow, CompareTable } from '../../src/core/track/compare';
import { shownSplits } from '../../src/core/track/format';
import { isCompareHostMessage, type CompareHostMessage, type ComparePanelState, type CompareWebviewMessage, type ErrorChangesState } from '../../src/protocol/compare';
import { connect, onThemeChange, readThemeColors, registerToolkit } from '../shared';
import { button, h, showTestToggle } from '../shared/dom';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Title, Tooltip, Legend);
registerToolkit();

const root = document.getElementById('root')!;
// Tells this panel's frame apart from other webviews (tests, styles).
root.dataset.panel = 'compare';
let state: ComparePanelState | undefined;
let charts: Chart[] = [];

const SECTION_TITLE: Record<CompareRow['section'], string> = { run: 'Run', param: 'Parameters', metric: 'Metrics' };

let showTest = false;

/** The split a metric row is of ('train accuracy' → train), undefined for other rows. */
const splitOf = (row: CompareRow) => (row.section === 'metric' ? row.key.split(' ')[0] : undefined);

function table(t: CompareTable): HTMLElement {
  const body: HTMLElement[] = [];
  let section: string | undefined;
  const shown = new Set(shownSplits(['train', 'dev', 'test'], showTest));
  for (const row of t.rows.filter((r) => splitOf(r) === undefined || shown.has(splitOf(r)!))) {
    if (row.section !== section) {
      section = row.section;
      body.push(h('tr', { class: 'section' }, h('th', { colspan: String(t.columns.length + 1) }, SECTION_TITLE[row.section])));
    }
    body.push(
      h(
        'tr',
        { class: row.differs ? 'differs' : 'same', 'data-key': row.key },
        h('th', { scope: 'row' }, row.key),
        ...row.display.map((d, i) => {
          const best = row.best.includes(i);
          return h('td', best ? { class: 'best', title: 'best' } : {}, d, ...(best ? [h('span', { class: 'best-mark', 'aria-label': 'best' }, ' ★')] : []));
        }),
      ),
    );
  }
  return h(
    'table',
    { class: 'compare', id: 'compare-table' },
    h('thead', {}, h('tr', {}, h('th', {}, ''), ...t.columns.map((c) => h('th', { title: c.runId }, c.label, h('div', { class: 'muted' }, `${c.experiment} · ${c.status}`))))),
    h('tbody', {}, ...body),
  );
}

/** Dev errors per run for all, each tag and each slice; the last column is last run − first run. */
function errorChanges(e: ErrorChangesState | undefined, t: CompareTable): HTMLElement | string {
  if (!e) return '';
  const title = h('h2', {}, 'Dev errors by tag and slice');
  if (e.status === 'loading') return h('section', { 'data-role': 'error-changes' }, title, h('p', { class: 'muted' }, document.createElement('vscode-progress-ring'), 'Predicting dev with each run…'));
  if (e.status === 'unavailable') return h('section', { 'data-role': 'error-changes' }, title, h('p', { class: 'muted' }, `Not available: ${e.message}`));
  const c = e.changes;
  const label = (id: string) => t.columns.find((col) => col.runId === id)?.label ?? id;
  const line = (kind: string, name: string, errors: number[], note: string) => {
    const delta = errors[errors.length - 1] - errors[0];
    return h(
      'tr',
      { 'data-kind': kind, 'data-name': name },
      h('th', { scope: 'row' }, name, note ? h('div', { class: 'muted' }, note) : ''),
      ...errors.map((n) => h('td', {}, String(n))),
      h('td', { class: delta < 0 ? 'better' : delta > 0 ? 'worse' : '', 'data-col': 'change' }, delta > 0 ? `+${delta}` : String(delta)),
    );
  };
  const section = (name: string) => h('tr', { class: 'section' }, h('th', { colspan: String(c.runIds.length + 2) }, name));
  return h(
    'section',
    { 'data-role': 'error-changes' },
    title,
    h('p', { class: 'muted' }, `The same ${c.devRows} dev examples predicted by each run; change is the last run minus the first (fewer is better).`),
    h(
      'table',
      { class: 'compare', id: 'error-changes' },
      h('thead', {}, h('tr', {}, h('th', {}, ''), ...c.runIds.map((id) => h('th', { title: id }, label(id))), h('th', {}, 'change'))),
      h(
        'tbody',
        {},
        line('all', 'all dev errors', c.errors, ''),
        ...(c.tags.length ? [section('Tags'), ...c.tags.map((x) => line('tag', x.tag, x.errors, `${x.tagged} tagged`))] : []),
        ...(c.slices.length ? [section('Slices where the first run errs most'), ...c.slices.map((x) => line('slice', x.label, x.errors, `${x.support} examples`))] : []),
      ),
    ),
  );
}

function render(): void {
  for (const c of charts) c.destroy();
  charts = [];
  if (!state) return;
  if (state.status !== 'loaded') {
    root.replaceChildren(state.status === 'loading' ? h('div', { class: 'loading' }, document.createElement('vscode-progress-ring'), h('span', {}, 'Loading runs…')) : h('div', { class: 'error' }, h('h2', {}, 'Cannot compare'), h('pre', {}, state.message)));
    root.dataset.ready = state.status === 'error' ? 'error' : '';
    return;
  }
  const colors = readThemeColors();
  const exportButton = button('Export CSV', 'export-csv', () => channel.post({ type: 'exportCsv' }));
  const series: CompareSeries[] = ['devMetric', 'devLoss', 'trainLoss'];
  const present = series.filter((s) => state!.status === 'loaded' && state!.curves.some((c) => c[s].some((v) => v !== null)));
  const canvases = present.map((s) => h('canvas', { id: `chart-${s}`, role: 'img', 'aria-label': `${s} per epoch, one line per run` }));
  root.replaceChildren(
    h('header', {}, h('div', { class: 'title-row' }, h('h1', {}, `Comparing ${state.table.columns.length} runs`), h('div', { class: 'actions' }, exportButton)), h('p', { class: 'muted' }, '≠ rows differ between runs; ★ marks the best value of each metric.'), ...(state.table.rows.some((r) => splitOf(r) === 'test') ? [testToggle()] : [])),
    h('div', { class: 'curves' }, ...canvases.map((c) => h('div', { class: 'chart curve' }, c))),
    h('section', {}, table(state.table)),
    errorChanges(state.errors, state.table),
  );
  const curves = state.curves;
  charts = present.map((s, i) => new Chart(canvases[i], compareChart(curves, s, colors) as never));
  root.dataset.charts = String(charts.length);
  root.dataset.datasets = String(charts[0]?.data.datasets.length ?? 0);
  requestAnimationFrame(() => (root.dataset.ready = 'true'));
}

/** "Show test" (with its reason while off); flipping it redraws. */
function testToggle(): HTMLElement {
  return showTestToggle(showTest, (on) => {
    showTest = on;
    render();
  });
}

const channel = connect<CompareHostMessage, CompareWebviewMessage>(isCompareHostMessage, (message) => {
  state = message.state;
  render();
});
onThemeChange(render);
