// The Data panel webview: draws the DataProfile the host sends. It computes nothing about the
// data; every number comes from the profile.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import type { ColumnProfile, DataProfile } from '../../src/core/data/profileTypes';
import {
  isDataHostMessage,
  type DataHostMessage,
  type DataPanelState,
  type DataWebviewMessage,
} from '../../src/protocol/data';
import { connect, dataGrid, onThemeChange, readThemeColors, registerToolkit, type ThemeColors } from '../shared';
import { classBalanceChart, columnChart, formatNumber, parseCssColor, photoPixels, samplePixels } from './charts';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);
registerToolkit();

const root = document.getElementById('root')!;
let state: DataPanelState | undefined;
let charts: Chart[] = [];
let scrollTimer: ReturnType<typeof setTimeout> | undefined;

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

function custom(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

function chartCanvas(config: ReturnType<typeof columnChart>, label: string, cls = 'chart'): HTMLElement {
  const canvas = h('canvas', { role: 'img', 'aria-label': label });
  const box = h('div', { class: cls }, canvas);
  // Created after insertion (below) so chart.js sees the box's size.
  pendingCharts.push(() => charts.push(new Chart(canvas, config)));
  return box;
}
let pendingCharts: (() => void)[] = [];

/** The data file's name (the profile may give an absolute path; the full one is the tooltip). */
function fileName(file: string): string {
  return file.split(/[\\/]/).slice(-2).join('/');
}

function header(profile: DataProfile, projectFile: string): HTMLElement {
  const stat = (label: string, value: string) =>
    h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label));
  const refresh = custom('vscode-button', { appearance: 'secondary', 'data-action': 'refresh' }, 'Refresh');
  refresh.addEventListener('click', () => channel.post({ type: 'refresh' }));
  const open = custom('vscode-button', { appearance: 'secondary', 'data-action': 'open' }, 'Open data file');
  open.addEventListener('click', () => channel.post({ type: 'openDataFile' }));
  return h(
    'header',
    {},
    h(
      'div',
      { class: 'title-row' },
      h('h1', { title: profile.file }, fileName(profile.file)),
      h('div', { class: 'actions' }, open, refresh),
    ),
    h(
      'p',
      { class: 'muted' },
      `${projectFile} · data version ${profile.dataVersion} · profiled in ${formatNumber(Math.round(profile.durationMs))} ms`,
    ),
    h(
      'div',
      { class: 'stats' },
      // Image files: counted as images; their duplicates are the audit's findings, not identical rows.
      ...(profile.images
        ? [
            stat('images', profile.rows.toLocaleString()),
            stat('train / dev / test', `${profile.split.train} / ${profile.split.dev} / ${profile.split.test}`),
            stat('images leaking into dev/test', String(profile.leakageRows)),
          ]
        : [
            stat('rows', profile.rows.toLocaleString()),
            stat('columns', String(profile.columns.length)),
            stat('train / dev / test', `${profile.split.train} / ${profile.split.dev} / ${profile.split.test}`),
            stat('duplicate rows', String(profile.duplicateRows)),
            stat('rows leaking into dev/test', String(profile.leakageRows)),
          ]),
    ),
  );
}

function findings(profile: DataProfile): HTMLElement {
  const icon = { error: 'error', warning: 'warning', information: 'info' } as const;
  if (profile.findings.length === 0)
    return h(
      'section',
      { class: 'findings' },
      h('h2', {}, 'Findings'),
      h('p', { class: 'muted' }, 'Nothing to report.'),
    );
  return h(
    'section',
    { class: 'findings' },
    h('h2', {}, `Findings (${profile.findings.length})`),
    h(
      'ul',
      {},
      ...profile.findings.map((f) => {
        const li = h(
          'li',
          { class: `finding ${icon[f.severity] ?? 'info'}` },
          h('span', { class: 'severity' }, f.severity),
          ' ',
          f.message,
        );
        const shown = imagesOfFinding(profile, f);
        if (shown) {
          // Image findings: a click shows the images they name (duplicate pairs side by side).
          li.classList.add('clickable');
          li.setAttribute('role', 'button');
          li.setAttribute('tabindex', '0');
          li.setAttribute('aria-expanded', 'false');
          const toggle = () => {
            const open = li.getAttribute('aria-expanded') === 'true';
            li.setAttribute('aria-expanded', String(!open));
            if (open) li.querySelector('.finding-images')?.remove();
            else li.append(shown());
          };
          li.addEventListener('click', (e) => (e.target as HTMLElement).closest('.finding-images') || toggle());
          li.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), toggle()));
        }
        return li;
      }),
    ),
  );
}

/** The images an image-audit finding names, as a builder of their thumbnails (undefined: not an image finding). */
function imagesOfFinding(profile: DataProfile, f: DataProfile['findings'][number]): (() => HTMLElement) | undefined {
  const previews = profile.images?.previews;
  const audit = profile.images?.findings.find((x) => x.code === f.code && x.message === f.message);
  if (!previews || !audit) return undefined;
  const thumb = (file: string, caption: string) => {
    const px = previews.byFile[file];
    const c = h('canvas', {
      class: 'sample',
      width: String(previews.width),
      height: String(previews.height),
      'aria-label': file,
    });
    if (px)
      c.getContext('2d')!.putImageData(
        new ImageData(
          photoPixels(px, previews.width, previews.height, previews.channels),
          previews.width,
          previews.height,
        ),
        0,
        0,
      );
    return h('figure', { class: 'finding-image', title: file }, c, h('figcaption', {}, caption));
  };
  return () =>
    audit.pairs
      ? h(
          'div',
          { class: 'finding-images pairs' },
          ...audit.pairs
            .filter((p) => previews.byFile[p.a] || previews.byFile[p.b])
            .map((p) =>
              h(
                'div',
                { class: 'pair' },
                thumb(p.a, `${p.splitA}: ${fileName(p.a)}`),
                thumb(p.b, `${p.splitB}: ${fileName(p.b)}`),
              ),
            ),
        )
      : h(
          'div',
          { class: 'finding-images' },
          ...audit.files.filter((file) => previews.byFile[file]).map((file) => thumb(file, fileName(file))),
        );
}

function imageGrid(profile: DataProfile, colors: ThemeColors): HTMLElement | undefined {
  const im = profile.imageSamples;
  if (!im) return undefined;
  const rgb = parseCssColor(colors.foreground);
  // An image dataset's files are drawn as they are; a table's pixel columns (digits) stretched in the theme's ink.
  const files = profile.images !== undefined;
  const rows = im.byClass.map(({ class: cls, pixels }) =>
    h(
      'div',
      { class: 'image-row' },
      h('span', { class: 'image-class' }, cls),
      ...pixels.map((p) => {
        const c = h('canvas', {
          class: 'sample',
          width: String(im.width),
          height: String(im.height),
          'aria-label': `example of ${cls}`,
        });
        c.getContext('2d')!.putImageData(
          new ImageData(
            files
              ? photoPixels(p, im.width, im.height, im.channels)
              : samplePixels(p, im.width, im.height, im.channels, rgb),
            im.width,
            im.height,
          ),
          0,
          0,
        );
        return c;
      }),
    ),
  );
  return h(
    'section',
    { class: 'images' },
    h('h2', {}, 'Examples per class'),
    h('div', { class: 'image-grid' }, ...rows),
  );
}

function columnTable(columns: ColumnProfile[]): HTMLElement {
  const num = (c: ColumnProfile, k: 'min' | 'max' | 'mean' | 'std') =>
    c.stats.kind === 'numeric' ? formatNumber(c.stats[k]) : '';
  const rows = columns.map((c) => ({
    name: c.name,
    role: c.role,
    type: c.stats.kind,
    missing: c.missing,
    distinct: c.distinct,
    min: num(c, 'min'),
    max: num(c, 'max'),
    mean: num(c, 'mean'),
    std: num(c, 'std'),
    note: c.constant ? 'constant' : '',
  }));
  const keys = ['name', 'role', 'type', 'missing', 'distinct', 'min', 'max', 'mean', 'std', 'note'];
  return h(
    'section',
    { class: 'columns' },
    h('h2', {}, 'Columns'),
    dataGrid(
      keys.map((k) => ({ columnDataKey: k, title: k })),
      rows,
      '2fr 1fr 1fr 1fr 1fr 1fr 1fr 1fr 1fr 1fr',
    ),
  );
}

function render(): void {
  clearTimeout(scrollTimer);
  for (const c of charts) c.destroy();
  charts = [];
  pendingCharts = [];
  root.removeAttribute('data-ready');
  if (!state) return;
  if (state.status === 'loading') {
    root.replaceChildren(
      h(
        'div',
        { class: 'loading' },
        custom('vscode-progress-ring'),
        h('span', {}, `Profiling the data of ${state.projectFile}…`),
      ),
    );
    return;
  }
  if (state.status === 'error') {
    const retry = custom('vscode-button', {}, 'Try again');
    retry.addEventListener('click', () => channel.post({ type: 'refresh' }));
    root.replaceChildren(
      h('div', { class: 'error' }, h('h2', {}, 'Could not profile the data'), h('pre', {}, state.message), retry),
    );
    root.dataset.ready = 'error';
    return;
  }
  const { profile } = state;
  const colors = readThemeColors();
  const balance = classBalanceChart(profile, colors);
  const columnCards = profile.columns.map((c) =>
    h(
      'div',
      { class: `column-card role-${c.role}` },
      h(
        'div',
        { class: 'column-name', title: c.name },
        c.name,
        c.role !== 'feature' ? h('span', { class: 'role' }, ` ${c.role}`) : '',
      ),
      chartCanvas(
        columnChart(c, colors),
        `${c.stats.kind === 'numeric' ? 'histogram' : 'top values'} of ${c.name}`,
        'chart small',
      ),
    ),
  );
  root.replaceChildren(
    header(profile, state.projectFile),
    findings(profile),
    ...(balance
      ? [
          h(
            'section',
            { class: 'balance' },
            h('h2', {}, 'Class balance'),
            chartCanvas(balance, 'rows per class and split', 'chart wide'),
          ),
        ]
      : []),
    ...[imageGrid(profile, colors)].filter((x): x is HTMLElement => !!x),
    h(
      'section',
      { class: 'distributions' },
      h('h2', {}, 'Distributions'),
      h('div', { class: 'column-grid' }, ...columnCards),
    ),
    columnTable(profile.columns),
  );
  for (const make of pendingCharts) make();
  pendingCharts = [];
  root.dataset.charts = String(charts.length);
  // Marks the panel drawn for tests and screen readers once the browser has painted the charts,
  // and goes back to where the user was reading before the webview was hidden or reloaded.
  requestAnimationFrame(() => {
    window.scrollTo(0, channel.getUiState()?.scrollY ?? 0);
    root.dataset.ready = 'true';
  });
}

/** What the webview keeps across reloads (the host owns the data; this is only where the user was). */
interface DataUiState {
  scrollY: number;
}

const channel = connect<DataHostMessage, DataWebviewMessage, DataUiState>(isDataHostMessage, (message) => {
  state = message.state;
  render();
});
onThemeChange(render);
window.addEventListener('scroll', () => {
  // Only the reader's scrolling of a drawn profile counts, not the jump a re-render causes.
  if (root.dataset.ready !== 'true') return;
  clearTimeout(scrollTimer);
  scrollTimer = setTimeout(() => channel.setUiState({ scrollY: window.scrollY }), 200);
});
