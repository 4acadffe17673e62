// The Monitoring panel webview: draws the host's snapshot — alerts, the dataset drift signal, drift
// per feature (worst first, with thresholds), the worst features' histograms, prediction drift,
// accuracy over time (live, and the CBPE estimate marked as such), latency and throughput, the
// report's issues, and the promotion gate. Image deployments: drift per image property, embedding
// drift, the window's pictures beside training ones and the worst requests (files the browser
// decodes). Chart configurations come from src/core/monitor/charts.
import { Chart, registerables, type ChartConfiguration } from 'chart.js';
import type { FeatureDrift, MonitoringReport } from '../../src/core/monitor/types';
import type { GroupComparison } from '../../src/core/update/gate';
import {
  accuracyChart,
  driftChart,
  latencyChart,
  predictionChart,
  testLabel,
  throughputChart,
  worstHistograms,
} from '../../src/core/monitor/charts';
import {
  isMonitoringHostMessage,
  type GateView,
  type ImageTile,
  type MonitoringAction,
  type MonitoringImagesView,
  type MonitoringHostMessage,
  type MonitoringPanelState,
  type MonitoringWebviewMessage,
} from '../../src/protocol/monitoring';
import { connect, onThemeChange, readThemeColors, registerToolkit } from '../shared';
import { button, h } from '../shared/dom';

Chart.register(...registerables);
registerToolkit();

const root = document.getElementById('root')!;
root.dataset.panel = 'monitoring';
let state: MonitoringPanelState | undefined;
let charts: Chart[] = [];

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

function act(label: string, action: MonitoringAction, appearance = 'secondary', disabled = false): HTMLElement {
  const b = button(label, action, () => channel.post({ type: 'action', action }), appearance);
  if (disabled) b.setAttribute('disabled', '');
  return b;
}

function stat(label: string, value: string, cls = ''): HTMLElement {
  return h(
    'div',
    { class: `stat ${cls}` },
    h('span', { class: 'stat-value' }, value),
    h('span', { class: 'stat-label' }, label),
  );
}

function chartBox(
  config: ChartConfiguration | undefined,
  id: string,
  cls = 'chart wide',
): { el: HTMLElement; draw: () => void } | undefined {
  if (!config) return undefined;
  const canvas = h('canvas', {
    id,
    role: 'img',
    'aria-label': String((config.options?.plugins?.title as { text?: string } | undefined)?.text ?? id),
  });
  return { el: h('div', { class: cls }, canvas), draw: () => charts.push(new Chart(canvas, config)) };
}

function featureRow(f: FeatureDrift): HTMLElement {
  const extra = [
    f.missingRate > 0 ? `missing ${pct(f.missingRate)} (train ${pct(f.referenceMissingRate)})` : '',
    f.outOfRangeRate ? `${pct(f.outOfRangeRate)} outside the training range` : '',
    f.unseenCategories && Object.keys(f.unseenCategories).length
      ? `unseen: ${Object.keys(f.unseenCategories).slice(0, 3).join(', ')}`
      : '',
    f.psiDrifted ? `PSI ${f.stats.psi?.toFixed(2)} > threshold` : '',
  ].filter(Boolean);
  return h(
    'tr',
    { class: f.drifted ? 'drifted' : '', 'data-feature': f.name },
    h('td', {}, f.drifted ? '⚠ ' : '', f.name),
    h('td', {}, testLabel(f)),
    h('td', { class: 'num' }, String(f.count)),
    h('td', { class: 'muted' }, extra.join(' · ')),
  );
}

function tile(t: ImageTile): HTMLElement {
  return h(
    'figure',
    { class: `tile${t.wrong ? ' wrong' : ''}`, title: t.title },
    h('img', { src: t.src, alt: t.title }),
    h('figcaption', {}, t.caption),
  );
}

function strip(label: string, id: string, tiles: ImageTile[]): HTMLElement {
  return h(
    'div',
    { class: 'image-strip', id },
    h('span', { class: 'strip-label muted' }, label),
    h('div', { class: 'tiles' }, ...(tiles.length ? tiles.map(tile) : [h('span', { class: 'muted' }, 'none')])),
  );
}

function imagesSection(r: MonitoringReport, v: MonitoringImagesView): HTMLElement[] {
  const missing = r.images?.missing
    ? ` · ${r.images.missing} logged image${r.images.missing === 1 ? '' : 's'} gone (log cap) or unreadable`
    : '';
  return [
    h('h2', {}, 'Images: window vs training'),
    h('p', { class: 'muted' }, `${r.images?.images ?? 0} images in the window${missing}`),
    strip('window (newest)', 'images-window', v.samples),
    strip('training', 'images-training', v.reference),
    h('h2', {}, 'Worst requests'),
    h('p', { class: 'muted' }, 'Wrong on feedback first, then the least confident.'),
    strip('worst', 'images-worst', v.worst),
  ];
}

function reportSection(
  r: MonitoringReport,
  draws: (() => void)[],
  busy: boolean,
  images?: MonitoringImagesView,
): HTMLElement[] {
  const colors = readThemeColors();
  const w = r.window;
  const out: HTMLElement[] = [];
  const isImage = !!r.images;
  out.push(
    h(
      'div',
      { class: 'stats', id: 'summary' },
      stat('dataset drift', r.dataset.drift ? 'DRIFT' : 'no drift', r.dataset.drift ? 'bad' : 'good'),
      stat(isImage ? 'drifted image properties' : 'drifted features', `${r.dataset.drifted} / ${r.dataset.total}`),
      ...(r.embedding
        ? [
            stat(
              `embedding drift (ROC AUC ${r.embedding.rocAuc.toFixed(2)}, threshold ${r.embedding.threshold.toFixed(2)})`,
              r.embedding.drifted ? 'DRIFT' : 'no drift',
              r.embedding.drifted ? 'bad' : 'good',
            ),
          ]
        : []),
      stat(
        'prediction drift',
        r.prediction ? (r.prediction.drifted ? 'DRIFT' : 'no drift') : '—',
        r.prediction?.drifted ? 'bad' : '',
      ),
      stat(
        r.live ? `live ${r.live.metric} (${r.live.labelled} labelled)` : 'live accuracy',
        r.live ? (r.live.metric === 'accuracy' ? pct(r.live.value) : r.live.value.toPrecision(4)) : 'no feedback yet',
      ),
      stat('estimated accuracy (CBPE)', r.estimated ? `≈ ${pct(r.estimated.value)}` : '—'),
      stat('requests in window', String(w.requests)),
      // A window without answered requests has no latency (NaN, null once in JSON).
      stat('p99 latency', Number.isFinite(r.operational.p99) ? `${r.operational.p99.toFixed(2)} ms` : '—'),
    ),
    h(
      'p',
      { class: 'muted' },
      `Window: ${w.kind === 'requests' ? `last ${w.size ?? w.requests} requests` : w.kind === 'time' ? `since ${w.since}` : 'the whole log'}${w.from ? ` (${w.from.slice(11, 19)}–${(w.to ?? '').slice(11, 19)} UTC)` : ''} · reference: ${r.reference.source}, ${r.reference.rows} training rows · model ${r.model ?? '?'} v${r.version ?? '?'}${r.runId ? ` (run ${r.runId})` : ''}`,
    ),
  );
  const drift = chartBox(driftChart(r, colors), 'chart-drift');
  if (images) out.push(...imagesSection(r, images));
  out.push(h('h2', {}, isImage ? 'Drift per image property' : 'Drift per feature'));
  if (drift) {
    out.push(drift.el);
    draws.push(drift.draw);
  }
  const worst = [...r.features].sort((a, b) => b.score - a.score);
  out.push(
    h(
      'table',
      { class: 'features', id: 'feature-table' },
      h(
        'thead',
        {},
        h('tr', {}, h('th', {}, 'feature'), h('th', {}, 'test (threshold)'), h('th', {}, 'n'), h('th', {}, 'also')),
      ),
      h('tbody', {}, ...worst.slice(0, 30).map(featureRow)),
    ),
  );
  // The requests behind the drift (values in the drifted ranges) and the unsure ones go to Error Analysis for tagging.
  out.push(
    h(
      'div',
      { class: 'finding', id: 'review' },
      h(
        'span',
        {},
        `${r.dataset.drifted ? `${isImage ? 'Pictures whose properties fall in the ranges' : 'Requests with values in the ranges'} of the ${r.dataset.drifted} drifted ${isImage ? 'propert' : 'feature'}${r.dataset.drifted === 1 ? (isImage ? 'y' : '') : isImage ? 'ies' : 's'}` : isImage ? 'Pictures' : 'Requests'} or with a low confidence (setting mlLoop.monitor.lowConfidence) can be tagged in Error Analysis, under Production. `,
      ),
      act('Send to Error Analysis', 'sendToErrorAnalysis', 'secondary', busy),
    ),
  );
  const hists = worstHistograms(r, colors).map((c, i) => chartBox(c, `chart-hist-${i}`, 'chart hist')!);
  out.push(
    h('h2', {}, isImage ? 'Worst image properties: training vs window' : 'Worst features: training vs window'),
    h('div', { class: 'hist-grid' }, ...hists.map((x) => x.el)),
  );
  draws.push(...hists.map((x) => x.draw));
  const pairs: [string, ReturnType<typeof chartBox>][] = [
    ['Predictions', r.prediction ? chartBox(predictionChart(r.prediction, colors), 'chart-prediction') : undefined],
    ['Accuracy', chartBox(accuracyChart(r, colors), 'chart-accuracy')],
    ['Latency', chartBox(latencyChart(r, colors), 'chart-latency')],
    ['Throughput', chartBox(throughputChart(r, colors), 'chart-throughput')],
  ];
  for (const [title, box] of pairs) {
    out.push(h('h2', {}, title));
    if (box) {
      out.push(box.el);
      draws.push(box.draw);
    } else
      out.push(
        h(
          'p',
          { class: 'muted' },
          title === 'Accuracy'
            ? 'No feedback labels and no class probabilities in the window yet.'
            : 'No data in the window yet.',
        ),
      );
  }
  if (r.issues.length) {
    out.push(
      h('h2', {}, 'Skipped while reading'),
      h('ul', { class: 'issues', id: 'issues' }, ...r.issues.map((i) => h('li', {}, `${i.count} × ${i.message}`))),
    );
  }
  return out;
}

function gateRow(g: GroupComparison, fmt: (v: number) => string): HTMLElement {
  const sign = g.gain > 0 ? 'better' : g.gain < 0 ? 'worse' : 'same';
  return h(
    'tr',
    { class: `${g.regression ? 'regression' : ''} ${g.kind}`, 'data-group': `${g.set}:${g.key}` },
    h('td', {}, g.regression ? '⚠ ' : '', g.label),
    h('td', {}, g.set === 'dev' ? 'dev split' : 'held-out production'),
    h('td', { class: 'num' }, String(g.support)),
    h('td', { class: 'num' }, fmt(g.production)),
    h('td', { class: `num ${sign}` }, fmt(g.candidate)),
  );
}

const short = (runId: string) => runId.split('-').pop() ?? runId;

function gateSection(g: GateView, busy: boolean, hasCandidate: boolean): HTMLElement {
  const c = g.comparison;
  const fmt = (v: number) => (Number.isNaN(v) ? '—' : c.metric === 'accuracy' ? pct(v) : v.toPrecision(4));
  const verdict = g.promoted
    ? h(
        'div',
        { class: 'finding ok', id: 'gate-verdict' },
        `Promoted: v${g.candidateVersion ?? '?'} (run ${short(g.candidateRunId)}) serves production. Roll Back returns to the previous version in one click.`,
      )
    : !c.needsConfirmation
      ? h(
          'div',
          { class: 'finding ok', id: 'gate-verdict' },
          `The candidate passes the gate: at least as good overall, and no tracked slice or tag worse by more than the margin (${c.metric === 'accuracy' ? `${(c.margin * 100).toFixed(1)} points` : `${(c.margin * 100).toFixed(1)} %`}).`,
        )
      : h(
          'div',
          { class: 'finding warning', id: 'gate-verdict' },
          c.betterOverall
            ? `Better overall, but worse on ${c.regressions.length} tracked group${c.regressions.length === 1 ? '' : 's'} by more than the margin: promoting asks for confirmation.`
            : 'Worse overall than production: promoting asks for confirmation.',
        );
  const p = g.production;
  // Groups too small to judge (below the gate's minimum support) never block: they are left out of the table.
  const shown = c.groups.filter((x) => x.kind === 'overall' || x.support >= c.minSupport);
  const hidden = c.groups.length - shown.length;
  return h(
    'section',
    { id: 'gate' },
    h('h2', {}, 'Promotion gate'),
    h(
      'p',
      { class: 'muted' },
      `Candidate run ${g.candidateRunId}${g.candidateVersion ? ` (v${g.candidateVersion})` : ''} trained on data ${g.dataVersion} = production run ${g.productionRunId}'s data + ${p.train} labelled production examples (${p.heldOut} held out; ${p.duplicates} duplicates dropped). Both evaluated on the same sets.`,
    ),
    verdict,
    h(
      'table',
      { class: 'gate', id: 'gate-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'group'),
          h('th', {}, 'set'),
          h('th', {}, 'n'),
          h('th', {}, `production (run ${short(g.productionRunId)})`),
          h('th', {}, `candidate (run ${short(g.candidateRunId)})`),
        ),
      ),
      h('tbody', {}, ...shown.map((x) => gateRow(x, fmt))),
    ),
    ...(hidden
      ? [
          h(
            'p',
            { class: 'muted' },
            `${hidden} slice or tag group${hidden === 1 ? '' : 's'} with fewer than ${c.minSupport} examples not shown (too small to judge; they never block).`,
          ),
        ]
      : []),
    ...(g.promoted
      ? []
      : [
          h(
            'div',
            { class: 'actions gate-actions' },
            act(
              c.needsConfirmation ? 'Promote… (needs confirmation)' : 'Promote',
              'promote',
              'primary',
              busy || !hasCandidate,
            ),
          ),
        ]),
  );
}

function render(): void {
  for (const c of charts) c.destroy();
  charts = [];
  if (!state) return;
  if (state.status !== 'loaded') {
    root.replaceChildren(
      state.status === 'loading'
        ? h(
            'div',
            { class: 'loading' },
            document.createElement('vscode-progress-ring'),
            h('span', {}, `Monitoring ${state.deployment}…`),
          )
        : h('div', { class: 'error' }, h('h2', {}, 'Cannot monitor'), h('pre', {}, state.message)),
    );
    root.dataset.ready = state.status === 'error' ? 'error' : '';
    return;
  }
  const d = state.deployment;
  const busy = !!state.busy;
  const draws: (() => void)[] = [];
  const header = h(
    'header',
    {},
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, `Monitoring ${d.name}`),
      h(
        'div',
        { class: 'actions' },
        act('Refresh', 'refresh', 'secondary', busy),
        act('Retrain with Production Data…', 'retrain', 'primary', busy || !d.running),
        act('Send to Error Analysis', 'sendToErrorAnalysis', 'secondary', busy || !state.report),
        act('Roll Back', 'rollback', 'secondary', busy || !d.previousProduction),
        act('Open Logs', 'openLogs'),
      ),
    ),
    h(
      'p',
      { class: 'muted' },
      `${d.running ? `Serving at ${d.url}` : 'Server stopped'} · production v${d.production ?? '-'}${d.production && d.runs[d.production] ? ` (run ${d.runs[d.production]})` : ''}${d.candidate ? ` · candidate v${d.candidate}` : ''}${state.refreshedAt ? ` · refreshed ${state.refreshedAt.slice(11, 19)} UTC` : ''}`,
    ),
  );
  const body: HTMLElement[] = [header];
  if (state.busy)
    body.push(
      h(
        'div',
        { class: 'loading', id: 'busy' },
        document.createElement('vscode-progress-ring'),
        h('span', {}, state.busy),
      ),
    );
  if (state.alerts.length)
    body.push(
      h(
        'div',
        { class: 'alerts', id: 'alerts' },
        ...state.alerts.map((a) =>
          h(
            'div',
            { class: 'finding warning', 'data-alert': a.kind },
            h('span', { class: 'severity' }, 'alert '),
            a.message,
          ),
        ),
      ),
    );
  if (state.gate) body.push(gateSection(state.gate, busy, !!d.candidate));
  if (state.reportError && !state.report) {
    const fix = state.notLogging ? [act('Restart with Request Logging…', 'restartWithLogging', 'primary', busy)] : [];
    body.push(h('div', { class: 'finding', id: 'report-error' }, h('span', {}, state.reportError), ...fix));
  }
  if (state.report) body.push(...reportSection(state.report, draws, busy, state.images));
  // A refresh redraws everything: keep the reader where they were.
  const scroll = { x: window.scrollX, y: window.scrollY };
  root.replaceChildren(...body);
  for (const draw of draws) draw();
  window.scrollTo(scroll.x, scroll.y);
  root.dataset.charts = String(charts.length);
  root.dataset.alerts = String(state.alerts.length);
  requestAnimationFrame(() => (root.dataset.ready = 'true'));
}

const channel = connect<MonitoringHostMessage, MonitoringWebviewMessage>(isMonitoringHostMessage, (message) => {
  state = message.state;
  render();
});
onThemeChange(render);
