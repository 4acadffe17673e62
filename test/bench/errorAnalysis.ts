// bench:errors — the Error Analysis panel on a 50,000-row dev set.
// 1. Host: a 62,500-row digits-like project (8×8 images, 10 classes; digits rows with pixel noise),
//    80 % dev, a softmax run; analyseRunInWorker with the bundled dist/worker-errors.js (load the
//    data, ONNX predictions of dev, tag table, slices, in a worker thread) and the panel's view (columns), as the panel does on open, with the
//    longest stall of the host's event loop meanwhile (what the rest of VS Code would feel).
//    The first open parses the CSV (no dataset cache: training writes it, so this is the case of data
//    never trained on here) and writes .mlloop/cache/datasets; the next ones read it
//    (src/core/data/datasetCache.ts): both are reported. The host's open is the time to the error
//    table (when the panel sends the examples); the slices arrive after it, as an update.
// 2. Webview: the bundled dist/webview/errorAnalysis.js in Chromium with the panel's HTML and a stub
//    of the VS Code API answering feature requests: time from the state message to the list drawn
//    with its images, and the time per scroll step (scrollTop change → rows and images redrawn).
//    The state message travels as VS Code sends it: JSON with the dev columns' typed arrays beside it
//    as binary (parsed and rebuilt inside the timed span), then a tag's update message (a delta).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveProject } from '../../src/core/data/dataset';
import { mulberry32 } from '../../src/core/data/prng';
import { analyseRunInWorker } from '../../src/core/analysis/analysisWorker';
import { trainExperiment } from '../../src/core/experiment/trainExperiment';
import { renderWebviewHtml } from '../../src/extension/webviewHost/html';
import {
  devColumnsOf,
  productionColumnsOf,
  type ErrorAnalysisHostMessage,
  type ErrorAnalysisView,
} from '../../src/protocol/errorAnalysis';
import { productionQueueOf } from '../../src/core/update/reviewQueue';
import { closeBrowser, launchBrowser } from '../runners/browser.mjs';
import { DIGITS_CSV } from '../datasets';
import { datasetCacheDir } from '../../src/core/spec/layout';

const ROOT = join(__dirname, '..', '..');
const ROWS = 62_500;

/** A message as VS Code's webview.postMessage carries it: JSON, each typed array replaced by a reference to a binary buffer. */
function asVsCodeSends(message: unknown): {
  json: string;
  buffers: { kind: string; base64: string }[];
  binaryBytes: number;
} {
  const buffers: { kind: string; base64: string }[] = [];
  let binaryBytes = 0;
  const json = JSON.stringify(message, (_k, v: unknown) => {
    if (!ArrayBuffer.isView(v)) return v;
    const bytes = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    binaryBytes += bytes.length;
    buffers.push({ kind: v.constructor.name, base64: bytes.toString('base64') });
    return { $$typed: buffers.length - 1 };
  });
  return { json, buffers, binaryBytes };
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-bench-errors-'));
  const [header, ...digits] = readFileSync(DIGITS_CSV, 'utf8').trimEnd().split(/\r?\n/);
  const rand = mulberry32(1);
  const lines = [header];
  for (let i = 0; i < ROWS; i++) {
    const cells = digits[i % digits.length].split(',');
    for (let p = 0; p < 64; p++)
      cells[p] = String(Math.max(0, Math.min(16, Number(cells[p]) + Math.round((rand() - 0.5) * 6))));
    lines.push(cells.join(','));
  }
  writeFileSync(join(dir, 'digits.csv'), lines.join('\n') + '\n');
  writeFileSync(
    join(dir, 'mlloop.json'),
    JSON.stringify({
      name: 'bench',
      task: 'classification',
      data: {
        path: 'digits.csv',
        target: 'digit',
        split: { dev: 0.8, test: 0, seed: 0 },
        image: { width: 8, height: 8 },
      },
      metric: 'accuracy',
      experiments: { softmax: { model: 'logistic', params: { maxIter: 30 } } },
    }),
  );
  const run = await trainExperiment({ projectDir: dir, experimentName: 'softmax' });
  if (run.status !== 'completed') throw new Error(run.error?.message);

  const hostTimes: number[] = [];
  // CPU time of this process (host thread and the worker), which a machine shared with other jobs inflates far less than wall time.
  const cpuTimes: number[] = [];
  let view: ErrorAnalysisView | undefined;
  let features: number[][] = [];
  const coldHost: number[] = [];
  for (let rep = 0; rep < 4; rep++) {
    // The first open finds no dataset cache (as right after training); the next three read it.
    if (rep === 0) rmSync(datasetCacheDir(dir), { recursive: true, force: true });
    let stall = 0;
    let tick = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      stall = Math.max(stall, now - tick - 10);
      tick = now;
    }, 10);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // As the panel does: the host parses mlloop.json (its schema is compiled already), the worker gets the spec.
    // As the panel does: the examples' state goes out when the worker has the error table; the slices follow.
    let tableMs = 0;
    const a = await analyseRunInWorker(
      { projectDir: await resolveProject(dir), run: run.runId },
      undefined,
      join(ROOT, 'dist', 'worker-errors.js'),
      () => (tableMs = performance.now() - t0),
    );
    const { table, dataset } = a;
    view = {
      runId: a.record.runId,
      load: 1,
      experiment: a.record.experiment,
      dataVersion: dataset.version.id,
      task: 'classification',
      classes: table.classes,
      image: { width: 8, height: 8, channels: 1, files: false },
      featureNames: dataset.schema.numeric,
      dev: devColumnsOf(table),
      production: productionColumnsOf(productionQueueOf([], dataset.schema), table.classes),
      errorCount: table.errorCount,
      tags: {},
      tagTable: [],
      slices: a.slices.map(({ key, label, support, errors, errorRate, shareOfErrors, lift }) => ({
        key,
        label,
        support,
        errors,
        errorRate,
        shareOfErrors,
        lift,
      })),
      labelErrors: { status: 'idle' },
      labelErrorSource: 'cross-validation',
      versions: [],
      experiments: ['softmax'],
      openMs: 0,
    };
    const allMs = performance.now() - t0;
    const ms = tableMs;
    const cpu = process.cpuUsage(cpu0);
    if (rep === 0) coldHost.push(ms);
    else (hostTimes.push(ms), cpuTimes.push((cpu.user + cpu.system) / 1000));
    clearInterval(timer);
    console.log(
      `host open${rep === 0 ? ' (cold: CSV parsed, cache written)' : ' (dataset cache)'} ${Math.round(ms)} ms to the examples, ${Math.round(allMs)} ms to the slices (in the worker: load ${a.timings.loadMs}, predict ${a.timings.predictMs}, tags+slices ${a.timings.analyseMs}); dev ${table.n} rows, ${table.errorCount} errors; longest host event-loop stall ${Math.round(stall)} ms; CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms`,
    );
    if (rep === 0)
      features = Array.from({ length: table.n }, (_, i) =>
        Array.from(dataset.dev.features.numeric.subarray(i * 64, (i + 1) * 64)),
      );
  }
  const state = asVsCodeSends({
    type: 'state',
    state: { status: 'loaded', view: view! },
  } satisfies ErrorAnalysisHostMessage);
  console.log(
    `state message ${(state.json.length / 1e6).toFixed(2)} MB of JSON + ${(state.binaryBytes / 1e6).toFixed(2)} MB of typed arrays (was 2.0 MB of JSON with plain arrays)`,
  );

  const html = renderWebviewHtml({
    title: 'bench',
    cspSource: 'file:',
    scriptUri: 'main.js',
    styleUris: ['webview.css', 'errorAnalysis.css'],
    nonce: 'benchnonce',
  });
  const browser = await launchBrowser();
  try {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    const pixels = new Map(view!.dev.ids.map((id, i) => [id, features[i]]));
    await page.exposeFunction('__features', (ids: string[]) => ids.map((id) => pixels.get(id) ?? []));
    await page.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      const file = url.pathname.endsWith('main.js')
        ? join(ROOT, 'dist', 'webview', 'errorAnalysis.js')
        : url.pathname.endsWith('.css')
          ? join(ROOT, 'media', url.pathname.split('/').pop()!)
          : undefined;
      if (url.pathname === '/' || url.pathname.endsWith('index.html'))
        return route.fulfill({ contentType: 'text/html', body: html });
      if (file)
        return route.fulfill({
          contentType: file.endsWith('.js') ? 'text/javascript' : 'text/css',
          body: readFileSync(file),
        });
      return route.fulfill({ status: 404, body: '' });
    });
    // The VS Code webview API, as the panel's host answers it (features by id; everything else ignored).
    // tsx names functions with a __name helper that the page lacks.
    await page.addInitScript('window.__name = (f) => f');
    await page.addInitScript(() => {
      const w = window as unknown as Record<string, unknown>;
      w.acquireVsCodeApi = () => ({
        postMessage: (m: { type: string; requestId?: number; ids?: string[] }) => {
          if (m.type === 'features') {
            void (w.__features as (ids: string[]) => Promise<number[][]>)(m.ids!).then((numeric) =>
              window.postMessage(
                { type: 'features', requestId: m.requestId, ids: m.ids, numeric, categories: numeric.map(() => []) },
                '*',
              ),
            );
          }
        },
        getState: () => undefined,
        setState: () => undefined,
      });
    });
    await page.goto('http://bench.local/index.html');
    await page.waitForFunction(() => document.getElementById('root')?.dataset.panel === 'errorAnalysis');
    const webviewOpen: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      // Each repeat posts the state to a fresh page: the first open is what the user waits for.
      if (rep > 0)
        (await page.reload(),
          await page.waitForFunction(() => document.getElementById('root')?.dataset.panel === 'errorAnalysis'));
      const ms = await page.evaluate(async ({ json, buffers }) => {
        // The binary part arrives as buffers (decoded before the clock starts, as IPC delivers them).
        const w = window as unknown as Record<string, new (b: ArrayBuffer) => ArrayBufferView>;
        const arrays = buffers.map(
          ({ kind, base64 }) => new w[kind](Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer),
        );
        const t0 = performance.now();
        window.postMessage(
          JSON.parse(json, (_k, v) =>
            v && typeof v === 'object' && '$$typed' in v ? arrays[(v as { $$typed: number }).$$typed] : v,
          ),
          '*',
        );
        const imagesDrawn = () => {
          const c = document.querySelector<HTMLCanvasElement>('.scroller canvas.digit');
          if (!c) return false;
          const d = c.getContext('2d')!.getImageData(0, 0, 8, 8).data;
          for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
          return false;
        };
        while (!(document.getElementById('root')!.dataset.ready === 'true' && imagesDrawn()))
          await new Promise((r) => setTimeout(r, 2));
        await new Promise((r) => requestAnimationFrame(() => r(undefined)));
        return performance.now() - t0;
      }, state);
      webviewOpen.push(ms);
    }
    console.log(`webview: state posted → list and images drawn ${webviewOpen.map((x) => Math.round(x)).join(', ')} ms`);
    // Show every dev example (not only errors) for the scroll test: 50,000 rows.
    await page.evaluate(() => {
      const box = document.querySelector<HTMLInputElement>('[data-filter="errors-only"]')!;
      box.checked = false;
      box.dispatchEvent(new Event('change'));
    });
    const scroll = await page.evaluate(async () => {
      const sc = document.querySelector<HTMLElement>('.scroller')!;
      const steps: number[] = [];
      const frame = () => new Promise((r) => requestAnimationFrame(() => r(undefined)));
      for (let i = 0; i < 150; i++) {
        const t0 = performance.now();
        sc.scrollTop += i % 10 === 9 ? 40_000 : sc.clientHeight * 0.9; // pages, and every 10th a long jump
        await frame();
        await frame();
        steps.push(performance.now() - t0);
      }
      return { steps, rows: document.querySelector('[data-role="count"]')!.textContent };
    });
    console.log(
      `scroll (${scroll.rows}): per step p50 ${percentile(scroll.steps, 0.5).toFixed(1)} ms, p95 ${percentile(scroll.steps, 0.95).toFixed(1)} ms, max ${Math.max(...scroll.steps).toFixed(1)} ms (two animation frames per step included)`,
    );
    // A tag as the host answers it: an update of the load with the tagged example's tags and the tag table.
    const tagUpdate = {
      type: 'update',
      runId: view!.runId,
      load: view!.load,
      update: {
        tags: { [view!.dev.ids[0]]: ['bench tag'] },
        tagTable: [{ tag: 'bench tag', errors: 1, shareOfErrors: 1 / view!.errorCount, tagged: 1, errorRate: 1 }],
      },
    } satisfies ErrorAnalysisHostMessage;
    const tagState = JSON.stringify(tagUpdate);
    const tagMs = await page.evaluate(async (text) => {
      const t0 = performance.now();
      window.postMessage(JSON.parse(text), '*');
      while (!document.querySelector('[data-tag-row="bench tag"]')) await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => requestAnimationFrame(() => r(undefined)));
      return performance.now() - t0;
    }, tagState);
    console.log(
      `webview: a tag's update (${tagState.length} bytes of JSON; was the whole 2.0 MB state) posted → tag table and list redrawn ${Math.round(tagMs)} ms`,
    );
    const hostMedian = percentile(hostTimes, 0.5);
    console.log(
      `panel open on ${view!.dev.ids.length} dev rows: host ${Math.round(hostMedian)} ms + webview ${Math.round(webviewOpen[0])} ms = ${Math.round(hostMedian + webviewOpen[0])} ms (median host of 3 with the dataset cache, first webview open); host CPU time median ${Math.round(percentile(cpuTimes, 0.5))} ms`,
    );
    console.log(
      `first open without the dataset cache: host ${Math.round(coldHost[0])} ms + webview ${Math.round(webviewOpen[0])} ms = ${Math.round(coldHost[0] + webviewOpen[0])} ms`,
    );
    console.log(
      `reference (before the cache and typed columns, loaded machine): host 1867 ms + webview 265 ms = 2132 ms; a tag re-sent 2.0 MB`,
    );
  } finally {
    await closeBrowser(browser);
    rmSync(dir, { recursive: true, force: true }); // the project, its run and its dataset cache (~50 MB)
  }
}

void main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
