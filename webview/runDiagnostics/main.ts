// The compact Run Diagnostics view: the selected run's bias/variance bars against the baseline,
// the verdict in one line, and a link to the full panel.
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import { biasVarianceChart } from '../../src/core/diagnose/charts';
import { isRunDiagnosticsHostMessage, type RunDiagnosticsHostMessage, type RunDiagnosticsViewState, type RunDiagnosticsWebviewMessage } from '../../src/protocol/diagnostics';
import { connect, onThemeChange, readThemeColors } from '../shared';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

const root = document.getElementById('root')!;
// Tells tests (and other webviews' page objects) which panel this is.
root.dataset.panel = 'runDiagnostics';
let state: RunDiagnosticsViewState | undefined;
let chart: Chart | undefined;

function render(): void {
  chart?.destroy();
  chart = undefined;
  root.removeAttribute('data-ready');
  if (!state) return;
  if (state.status === 'empty') {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = state.message;
    root.replaceChildren(p);
    root.dataset.ready = 'empty';
    return;
  }
  const { verdict } = state;
  const title = document.createElement('div');
  title.className = 'compact-title';
  // The run's short name (it names the experiment unless the run has a name of its own); the full id on hover.
  title.textContent = state.label;
  title.title = `${state.experiment} · run ${state.runId}`;
  const line = document.createElement('p');
  line.className = `verdict ${verdict.severity}`;
  line.textContent = verdict.summary;
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', 'baseline, train and dev error');
  const box = document.createElement('div');
  box.className = 'chart compact';
  box.append(canvas);
  const link = document.createElement('a');
  link.href = '#';
  link.textContent = 'Open the Diagnostics panel';
  link.addEventListener('click', (e) => {
    e.preventDefault();
    channel.post({ type: 'openPanel' });
  });
  root.replaceChildren(title, line, box, link);
  chart = new Chart(canvas, biasVarianceChart(verdict, readThemeColors()));
  root.dataset.dominant = verdict.dominant;
  requestAnimationFrame(() => (root.dataset.ready = 'true'));
}

const channel = connect<RunDiagnosticsHostMessage, RunDiagnosticsWebviewMessage>(isRunDiagnosticsHostMessage, (m) => {
  state = m.state;
  render();
});
onThemeChange(render);
