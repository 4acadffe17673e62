// The Training panel webview: draws the run's curves and final metrics from the host's snapshot.
// Chart configurations come from src/core/track/charts (built and tested in Node); this file only
// creates the DOM and the charts, and reuses the charts across snapshots (no flicker while live).
import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Title, Tooltip } from 'chart.js';
import { trainingLossChart, trainingMetricChart } from '../../src/core/track/charts';
import { formatMetricValue, shownSplits } from '../../src/core/track/format';
import { isTrainingHostMessage, type TrainingHostMessage, type TrainingPanelState, type TrainingWebviewMessage } from '../../src/protocol/training';
import { connect, onThemeChange, readThemeColors, registerToolkit } from '../shared';
import { button, h, showTestToggle } from '../shared/dom';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Title, Tooltip, Legend);
registerToolkit();

const root = document.getElementById('root')!;
// Tells this panel's frame apart from other webviews (tests, styles).
root.dataset.panel = 'training';
let state: TrainingPanelState | undefined;
let lossChart: Chart | undefined;
let metricChart: Chart | undefined;
let drawnRunId: string | undefined;

let showTest = false;

function metricsTable(metrics: Record<string, Record<string, number> | undefined> | undefined): HTMLElement {
  const splits = shownSplits(['train', 'dev', 'test'] as const, showTest).filter((s) => metrics?.[s]);
  if (!metrics || splits.length === 0) return h('p', { class: 'muted' }, 'Final metrics appear when the run completes.');
  const names = [...new Set(splits.flatMap((s) => Object.keys(metrics[s]!)))];
  const toggle = metrics.test ? testToggle() : undefined;
  return h(
    'div',
    {},
    ...(toggle ? [toggle] : []),
    h('table',
    { class: 'metrics' },
    h('thead', {}, h('tr', {}, h('th', {}, ''), ...names.map((n) => h('th', {}, n)))),
    h('tbody', {}, ...splits.map((s) => h('tr', { 'data-split': s }, h('th', {}, s), ...names.map((n) => h('td', {}, metrics[s]![n] === undefined ? '—' : formatMetricValue(n, metrics[s]![n])))))),
    ),
  );
}

/** "Show test" (with its reason while off); flipping it redraws. */
function testToggle(): HTMLElement {
  return showTestToggle(showTest, (on) => {
    showTest = on;
    render();
  });
}

/** Builds the page once per run; later snapshots update the text and the charts' data in place. */
function render(): void {
  if (!state) return;
  if (state.status !== 'loaded') {
    lossChart?.destroy();
    metricChart?.destroy();
    lossChart = metricChart = undefined;
    drawnRunId = undefined;
    root.replaceChildren(
      state.status === 'loading'
        ? h('div', { class: 'loading' }, document.createElement('vscode-progress-ring'), h('span', {}, `Loading run ${state.runId}…`))
        : h('div', { class: 'error' }, h('h2', {}, 'Cannot show this run'), h('pre', {}, state.message)),
    );
    root.dataset.ready = state.status === 'error' ? 'error' : '';
    return;
  }
  const { run, curves } = state;
  const colors = readThemeColors();
  if (drawnRunId !== run.runId || !lossChart || !metricChart) {
    lossChart?.destroy();
    metricChart?.destroy();
    const lossCanvas = h('canvas', { id: 'loss-chart', role: 'img', 'aria-label': 'loss per epoch' });
    const metricCanvas = h('canvas', { id: 'metric-chart', role: 'img', 'aria-label': 'dev metric per epoch' });
    root.replaceChildren(
      h('header', {}, h('div', { class: 'title-row' }, h('h1', { id: 'run-title' }), h('div', { class: 'actions', id: 'actions' })), h('p', { class: 'muted', id: 'run-sub' })),
      h('div', { class: 'curves' }, h('div', { class: 'chart curve' }, lossCanvas), h('div', { class: 'chart curve' }, metricCanvas)),
      h('section', {}, h('h2', {}, 'Final metrics'), h('div', { id: 'final' })),
      h('section', {}, h('h2', {}, 'Parameters'), h('pre', { id: 'params', class: 'params' })),
    );
    lossChart = new Chart(lossCanvas, trainingLossChart(curves, colors) as never);
    metricChart = new Chart(metricCanvas, trainingMetricChart(curves, colors) as never);
    drawnRunId = run.runId;
  } else {
    // Same run, new points: swap data and options, redraw without animation.
    const loss = trainingLossChart(curves, colors);
    const metric = trainingMetricChart(curves, colors);
    lossChart.data = loss.data as never;
    lossChart.options = loss.options as never;
    metricChart.data = metric.data as never;
    metricChart.options = metric.options as never;
    lossChart.update('none');
    metricChart.update('none');
  }
  document.getElementById('run-title')!.textContent = `${run.label} · ${run.experiment}`;
  const steps = curves.steps.length;
  const status = h('span', { class: `status status-${run.status}`, id: 'run-status' }, run.status);
  document.getElementById('run-sub')!.replaceChildren(
    status,
    ` · ${run.model} · epoch ${curves.steps.at(-1) ?? 0}${curves.totalSteps ? ` of ${curves.totalSteps}` : ''} · started ${new Date(run.startedAt).toLocaleString()}`,
    ...(run.error ? [h('span', { class: 'run-error' }, ` · ${run.error}`)] : []),
  );
  const actions = document.getElementById('actions')!;
  // Buttons are rebuilt only when they change: a button replaced at every snapshot could not be clicked.
  const actionsKey = `${run.cancellable}|${run.status === 'completed'}`;
  if (actions.dataset.key !== actionsKey) {
    actions.dataset.key = actionsKey;
    actions.replaceChildren(
      ...(run.cancellable ? [button('Cancel', 'cancel', () => channel.post({ type: 'cancel' }), 'primary')] : []),
      ...(run.status === 'completed' ? [button('Reveal model', 'reveal-model', () => channel.post({ type: 'revealModel' }))] : []),
    );
  }
  document.getElementById('final')!.replaceChildren(metricsTable(run.metrics));
  document.getElementById('params')!.textContent = JSON.stringify(run.params, null, 2);
  root.dataset.status = run.status;
  root.dataset.points = String(steps);
  // What chart.js holds: the number of values of each dataset (a point per epoch).
  root.dataset.chartPoints = JSON.stringify([...lossChart.data.datasets, ...metricChart.data.datasets].map((d) => d.data.length));
  root.dataset.lastStep = String(curves.steps.at(-1) ?? 0);
  root.dataset.ready = 'true';
}

let lastSeq = -1;
const channel = connect<TrainingHostMessage, TrainingWebviewMessage>(isTrainingHostMessage, (message) => {
  // A snapshot older than the one drawn (reordered delivery) is dropped.
  if (message.seq <= lastSeq && message.seq !== 1) return;
  lastSeq = message.seq;
  state = message.state;
  root.dataset.seq = String(message.seq);
  render();
});
onThemeChange(() => {
  drawnRunId = undefined;
  render();
});
