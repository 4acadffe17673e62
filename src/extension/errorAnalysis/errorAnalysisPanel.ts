// The Error Analysis panel of one run: the dev errors (with images for data.image projects), tags,
// the tag table, slices, likely label errors, and the actions that turn them into data versions.
// Loading the data, predicting dev and finding slices run in a worker thread (src/worker/errors.ts),
// so a 50,000-row dev set never blocks the extension host; cross-validation for label errors trains
// in worker threads too, and so do the new data versions (augmentation, added rows, fixed labels)
// and the export (src/core/analysis/dataJobsWorker.ts). The host keeps the analysis to answer the
// webview's requests. The Production source lists the review queue's requests of the run's model
// (.mlloop/review-queue.json, filled by Send to Error Analysis in the Monitoring panel), re-read on
// load and whenever it is asked for.
import { runLabelOf } from '../../core/track/store';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveProject, type ProjectRef } from '../../core/data/dataset';
import { labelIssuesOfRun, type RunErrorAnalysis } from '../../core/analysis/analysis';
import { inDataJobsWorker } from '../../core/analysis/dataJobsWorker';
import { analyseRunInWorker, neighboursInWorker } from '../../core/analysis/analysisWorker';
import { CancelledError } from '../../core/runtime/cancel';
import { listDataVersions, type VersionRecipe } from '../../core/data/dataVersions';
import { labelOf } from '../../core/analysis/errorTable';
import { parseSliceKey, sliceRows, type Slice } from '../../core/analysis/slices';
import { planarToInterleaved } from '../../core/data/images/pixels';
import {
  changedTags,
  readTags,
  tagTable,
  updateTags,
  withProductionCounts,
  type TagRow,
  type TagStore,
} from '../../core/analysis/tags';
import { productionQueueOf, readReviewQueue, type ProductionQueue } from '../../core/update/reviewQueue';
import {
  devColumnsOf,
  isErrorAnalysisWebviewMessage,
  productionColumnsOf,
  type AugmentSourceRef,
  type DataVersionView,
  type ErrorAnalysisHostMessage,
  type ErrorAnalysisState,
  type ErrorAnalysisUpdate,
  type ErrorAnalysisView,
  type ErrorAnalysisWebviewMessage,
  type LabelErrorsState,
  type NeighboursView,
  type RequestedFilter,
  type SliceView,
} from '../../protocol/errorAnalysis';
import type { Services } from '../services';
import { WebviewPanelHost } from '../webviewHost/panel';
import { ImageLoopHost } from './imageLoop';
import { REVIEW_QUEUE_FILE, TAGS_FILE } from '../../core/spec/layout';

/** Closest training images shown per class in the detail view of an image. */
const NEIGHBOURS_PER_CLASS = 3;

function sliceViews(slices: Slice[]): SliceView[] {
  return slices.map(({ key, label, support, errors, errorRate, shareOfErrors, lift }) => ({
    key,
    label,
    support,
    errors,
    errorRate,
    shareOfErrors,
    lift,
  }));
}

function versionViews(recipes: VersionRecipe[]): DataVersionView[] {
  return recipes.map((r) => ({
    id: r.id,
    kind: r.kind,
    parent: r.parent,
    rows: r.rows,
    createdAt: r.createdAt,
    summary: versionSummary(r),
  }));
}

function versionSummary(r: VersionRecipe): string {
  const d = r.details as Record<string, unknown>;
  if (r.kind === 'augment') {
    const src = d.source as AugmentSourceRef | undefined;
    const method = r.images ? 'new images' : String(d.method);
    return `${r.rows} × ${method} of ${src && 'tag' in src ? `tag "${src.tag}"` : `slice ${src?.slice ?? '?'}`} (seed ${String(d.seed)})`;
  }
  if (r.kind === 'add' && r.images) return `${r.rows} labelled image(s) added`;
  if (r.kind === 'add') return `${r.rows} rows added from ${path.basename(String(d.file ?? ''))}`;
  return `${Object.keys(r.labelFixes ?? {}).length} label(s) fixed`;
}

export class ErrorAnalysisPanel extends WebviewPanelHost<ErrorAnalysisHostMessage, ErrorAnalysisWebviewMessage> {
  static readonly viewType = 'mlLoop.errorAnalysis';
  private analysis: RunErrorAnalysis | undefined;
  private view: ErrorAnalysisView | undefined;
  private loadError: string | undefined;
  private filter: RequestedFilter | undefined;
  private busy: string | undefined;
  private labelErrors: LabelErrorsState = { status: 'idle' };
  private labelAbort: AbortController | undefined;
  private loadAbort: AbortController | undefined;
  /** Image projects: Augment… with a preview, similar images, the embedding map (in a worker). */
  private readonly imageLoop: ImageLoopHost;
  /** Loads so far: the view of the latest carries it, and so do the updates sent after it. */
  private loads = 0;
  /** Where each example id sits in the loaded data (features on request). */
  private index = new Map<string, { split: 'train' | 'dev' | 'test'; row: number }>();
  /** Train and test are in `index` too (see rowOf). */
  private indexedAll = false;
  /** The review queue's examples of this model (the Production source), and their rows by id. */
  private production: ProductionQueue | undefined;
  private productionIndex = new Map<string, number>();
  /** The review queue the Production source was read from, as JSON. */
  private productionText = '';
  /** The latest detail view's neighbour search (a newer one cancels it), and an example asked for before the index was ready. */
  private neighboursAbort: AbortController | undefined;
  private neighboursWanted: string | undefined;
  /** Why this load has no neighbour index (it failed after the examples were shown). */
  private neighboursError: string | undefined;

  static show(
    services: Services,
    projectDir: string,
    runId: string,
    filter?: Omit<RequestedFilter, 'seq'>,
  ): ErrorAnalysisPanel {
    const panel = services.panels.show(
      ErrorAnalysisPanel.viewType,
      { projectDir, runId },
      () => {
        const created = new ErrorAnalysisPanel(services, projectDir, runId);
        void created.load();
        return created;
      },
      // The queue may have grown since the panel loaded (Send to Error Analysis in the Monitoring panel).
      (open: ErrorAnalysisPanel) => {
        if (filter?.source === 'production') void open.reloadProduction();
      },
    );
    if (filter) panel.requestFilter(filter);
    return panel;
  }

  private constructor(
    private readonly services: Services,
    readonly projectDir: string,
    readonly runId: string,
  ) {
    super({
      viewType: ErrorAnalysisPanel.viewType,
      title: `Errors: ${runLabelOf(projectDir, runId)}`,
      bundle: 'errorAnalysis',
      styles: ['webview.css', 'errorAnalysis.css'],
      extensionUri: services.context.extensionUri,
      log: services.log,
      isWebviewMessage: isErrorAnalysisWebviewMessage,
      restoreKey: { projectDir, runId },
      panels: services.panels,
    });
    this.imageLoop = new ImageLoopHost(projectDir, runId, {
      post: (m) => void this.panel.webview.postMessage(m),
      dataVersion: () => this.view?.dataVersion,
      log: this.log,
    });
    this.watchSharedFiles();
  }

  /**
   * Tags and the review queue are shared with other windows, the CLI and the Monitoring panel
   * (Send to Error Analysis): the panel follows their changes on disk.
   */
  private watchSharedFiles(): void {
    const timers = new Map<string, NodeJS.Timeout>();
    const later = (key: string, run: () => Promise<void>) => {
      clearTimeout(timers.get(key));
      // Debounced: one write may show as several events.
      timers.set(
        key,
        setTimeout(
          () =>
            void run().catch((e) =>
              this.log.warn(`error analysis: could not re-read ${key}: ${e instanceof Error ? e.message : String(e)}`),
            ),
          300,
        ),
      );
    };
    const watch = (file: string, run: () => Promise<void>) => {
      const w = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(
          vscode.Uri.file(path.dirname(path.join(this.projectDir, file))),
          path.basename(file),
        ),
      );
      for (const on of [w.onDidChange, w.onDidCreate, w.onDidDelete]) this.own(on(() => later(file, run)));
      this.own(w);
    };
    watch(TAGS_FILE, () => this.reloadTags());
    watch(REVIEW_QUEUE_FILE, () => this.reloadProduction());
    this.own({ dispose: () => timers.forEach((t) => clearTimeout(t)) });
  }

  get state(): ErrorAnalysisState {
    if (this.view)
      return {
        status: 'loaded',
        view: { ...this.view, labelErrors: this.labelErrors },
        ...(this.filter ? { filter: this.filter } : {}),
        ...(this.busy ? { busy: this.busy } : {}),
      };
    return this.loadError
      ? { status: 'error', runId: this.runId, message: this.loadError }
      : { status: 'loading', runId: this.runId };
  }

  protected snapshot(): ErrorAnalysisHostMessage {
    return { type: 'state', state: this.state };
  }

  /**
   * Tells the webview what changed in the loaded view (never the dev columns, which the state
   * message carried once). Before a load there is nothing to update: the snapshot says it all.
   */
  private sendUpdate(update: ErrorAnalysisUpdate): void {
    if (this.view) this.post({ type: 'update', runId: this.view.runId, load: this.view.load, update });
    else this.publish();
  }

  requestFilter(filter: Omit<RequestedFilter, 'seq'>): void {
    this.filter = { ...filter, seq: (this.filter?.seq ?? 0) + 1 };
    this.sendUpdate({ filter: this.filter });
  }

  /**
   * Analyses the run in a worker. The examples are drawn as soon as the worker has the error table
   * (slices pending), and the slices follow as an update: finding them is the slowest step left.
   */
  async load(): Promise<void> {
    const t0 = performance.now();
    this.loadError = undefined;
    this.loadAbort?.abort();
    const abort = (this.loadAbort = new AbortController());
    let shown: Promise<void> | undefined;
    let shownLoad = 0;
    let slicesShown = false;
    this.neighboursError = undefined;
    try {
      const ref = await resolveProject(this.projectDir);
      const versions = listDataVersions(this.projectDir);
      const queue = readReviewQueue(this.projectDir);
      // The slices once the examples are shown (the same load): an update, without the dev columns again.
      const showSlices = (withSlices: RunErrorAnalysis) => {
        if (!this.analysis || this.view?.load !== shownLoad || slicesShown) return;
        slicesShown = true;
        this.analysis.slices = withSlices.slices;
        this.analysis.timings = withSlices.timings;
        this.view.slices = sliceViews(withSlices.slices);
        delete this.view.slicesPending;
        this.log.info(
          `error analysis of run ${this.runId}: slices in ${Math.round(performance.now() - t0)} ms (analyse ${withSlices.timings.analyseMs})`,
        );
        this.sendUpdate({ slices: this.view.slices });
      };
      const analysis = await analyseRunInWorker(
        { projectDir: ref, run: this.runId },
        abort.signal,
        undefined,
        (partial) => {
          shown = Promise.all([versions, queue]).then(([v, q]) => {
            if (abort.signal.aborted) return;
            this.show(partial, v, q, ref, t0, true);
            shownLoad = this.loads;
            this.publish();
          });
        },
        (withSlices) => void shown?.then(() => showSlices(withSlices)),
      );
      await shown;
      if (shown && this.analysis && this.view?.load === shownLoad) {
        showSlices(analysis);
        this.analysis.neighbours = analysis.neighbours;
        if (this.neighboursWanted) void this.sendNeighbours(this.neighboursWanted);
        return;
      }
      this.show(analysis, await versions, await queue, ref, t0, false);
    } catch (e) {
      if (e instanceof CancelledError) return; // a newer load or the panel's disposal
      const message = e instanceof Error ? e.message : String(e);
      this.log.error(`error analysis of run ${this.runId} failed: ${message}`);
      if (this.view && shownLoad && this.view.load === shownLoad) {
        // The examples are shown already: only the slices (if not shown yet) and the neighbour index are missing.
        if (!slicesShown) {
          delete this.view.slicesPending;
          this.sendUpdate({ slices: [] });
        }
        this.neighboursError = message;
        if (this.neighboursWanted) void this.sendNeighbours(this.neighboursWanted);
        return;
      }
      this.loadError = message;
    }
    this.publish();
  }

  /** Makes `analysis` the panel's view (a new load); `slicesPending`: its slices are still being found. */
  private show(
    analysis: RunErrorAnalysis,
    versions: VersionRecipe[],
    queue: Awaited<ReturnType<typeof readReviewQueue>>,
    ref: ProjectRef,
    t0: number,
    slicesPending: boolean,
  ): void {
    this.analysis = analysis;
    const { table, dataset } = analysis;
    // Dev now (the examples the panel lists); train and test at the first id not found there: indexing
    // every split of a 600,000-row run held this thread for hundreds of milliseconds as the panel opened.
    this.index.clear();
    this.indexSplit('dev');
    this.indexedAll = false;
    this.view = {
      runId: analysis.record.runId,
      load: ++this.loads,
      experiment: analysis.record.experiment,
      dataVersion: dataset.version.id,
      task: table.task,
      ...(table.classes ? { classes: table.classes } : {}),
      ...(analysis.image
        ? {
            image: {
              width: analysis.image.width,
              height: analysis.image.height,
              channels: analysis.image.channels ?? 1,
              files: dataset.schema.image !== undefined,
            },
          }
        : {}),
      featureNames: [...dataset.schema.numeric, ...dataset.schema.categorical],
      dev: devColumnsOf(table),
      production: this.readProductionColumns(queue),
      errorCount: table.errorCount,
      tags: analysis.tags,
      tagTable: this.withProduction(analysis.tagTable, analysis.tags),
      slices: sliceViews(analysis.slices),
      ...(slicesPending ? { slicesPending } : {}),
      labelErrors: this.labelErrors,
      labelErrorSource: analysis.record.model === 'script' ? 'dev' : 'cross-validation',
      versions: versionViews(versions),
      // Built-in and script experiments both train on a derived version.
      experiments: Object.keys(ref.spec.experiments),
      openMs: Math.round(performance.now() - t0),
    };
    this.log.info(
      `error analysis of run ${this.runId}: ${table.errorCount} errors of ${table.n} dev examples in ${this.view.openMs} ms (load ${analysis.timings.loadMs}, predict ${analysis.timings.predictMs}, analyse ${analysis.timings.analyseMs})`,
    );
  }

  protected async handle(m: Exclude<ErrorAnalysisWebviewMessage, { type: 'ready' }>): Promise<void> {
    switch (m.type) {
      case 'refresh':
        return this.load();
      case 'features':
        return this.sendFeatures(m.requestId, m.ids);
      case 'sliceRows': {
        const a = this.analysis;
        if (!a) return;
        void this.panel.webview.postMessage({
          type: 'sliceRows',
          key: m.key,
          rows: sliceRows(a.sliceView.schema, a.sliceView.rows, parseSliceKey(m.key)),
        } satisfies ErrorAnalysisHostMessage);
        return;
      }
      case 'neighbours':
        return this.sendNeighbours(m.id);
      case 'tag':
        return this.tag(m.ids, m.tag, m.remove === true);
      case 'findLabelErrors':
        return this.findLabelErrors();
      case 'fixLabels':
        return this.withBusy('Fixing labels…', async () => {
          const v = await inDataJobsWorker({
            job: 'fixLabels',
            projectDir: this.projectDir,
            ...this.parentVersion(),
            fixes: m.fixes,
          });
          await this.offerTraining(v, `Fixed ${Object.keys(m.fixes).length} label(s) into data version ${v.id}.`);
        });
      case 'augmentPreview':
      case 'similar':
      case 'embeddingMap':
        return this.imageLoop.handle(m);
      case 'addImages':
        return this.withBusy('Adding the labelled images…', async () => {
          const v = await this.imageLoop.addImages(m.picks, this.view?.dataVersion);
          await this.offerTraining(v, `Data version ${v.id}: ${versionSummary(v)}.`);
        });
      case 'augment': {
        // Image files or table rows alike, in the worker (only image files report progress).
        const what = this.view?.image?.files ? 'images' : 'rows';
        return this.withBusy(`Augmenting: ${m.count} ${what}…`, async () => {
          const v = await this.imageLoop.augment(m, this.view?.dataVersion, (done, total) => {
            this.busy = `Augmenting: ${done} of ${total} ${what}…`;
            this.sendUpdate({ busy: this.busy });
          });
          this.log.info(`data version ${v.id}: ${versionSummary(v)}`);
          await this.offerTraining(v, `Data version ${v.id}: ${versionSummary(v)}.`);
        });
      }
      case 'export': {
        const name = 'tag' in m.source ? m.source.tag : m.source.slice;
        const target = await vscode.window.showSaveDialog({
          defaultUri: vscode.Uri.file(
            path.join(this.projectDir, `collect-${name.replace(/[^\w.-]+/g, '_').slice(0, 40)}.csv`),
          ),
          filters: { CSV: ['csv'] },
          title: 'Export examples for collection',
        });
        if (!target) return;
        const n = await inDataJobsWorker({
          job: 'export',
          projectDir: this.projectDir,
          ...(this.view?.dataVersion ? { dataVersion: this.view.dataVersion } : {}),
          source: m.source,
          out: target.fsPath,
        });
        void vscode.window.showInformationMessage(`ML Loop: ${n} examples written to ${path.basename(target.fsPath)}`);
        return;
      }
      case 'addData': {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          filters: { CSV: ['csv'] },
          title: 'Add labelled rows from a CSV',
          defaultUri: vscode.Uri.file(this.projectDir),
        });
        if (!picked?.[0]) return;
        return this.withBusy('Adding data…', async () => {
          const v = await inDataJobsWorker({
            job: 'addCsv',
            projectDir: this.projectDir,
            ...this.parentVersion(),
            csvFile: picked[0].fsPath,
          });
          await this.offerTraining(v, `Data version ${v.id}: ${versionSummary(v)}.`);
        });
      }
      case 'train':
        return this.train(m.version, m.experiment);
    }
  }

  /** The data version the panel shows, as the parent of a new one (none: the project's data). */
  private parentVersion(): { parentVersion?: string } {
    return this.view?.dataVersion ? { parentVersion: this.view.dataVersion } : {};
  }

  private async withBusy(label: string, fn: () => Promise<void>): Promise<void> {
    this.busy = label;
    this.sendUpdate({ busy: label });
    try {
      await fn();
    } finally {
      this.busy = undefined;
      await this.refreshVersions();
    }
  }

  private async refreshVersions(): Promise<void> {
    if (!this.view) return;
    this.view.versions = versionViews(await listDataVersions(this.projectDir));
    this.sendUpdate({ versions: this.view.versions, busy: this.busy ?? '' });
  }

  /** Tells the user about a new version and offers to train the run's experiment on it (not awaited by the panel). */
  private async offerTraining(v: VersionRecipe, message: string): Promise<void> {
    await this.refreshVersions();
    const experiment = this.view?.experiment;
    const action = experiment ? `Train ${experiment} on it` : undefined;
    void vscode.window.showInformationMessage(`ML Loop: ${message}`, ...(action ? [action] : [])).then((choice) => {
      if (choice === action && experiment) void this.train(v.id, experiment);
    });
  }

  private async train(version: string, experiment: string): Promise<void> {
    await vscode.commands.executeCommand('mlLoop.trainExperiment', {
      projectFile: vscode.Uri.file(path.join(this.projectDir, 'mlloop.json')),
      experiment,
      dataVersion: version,
    });
  }

  private async tag(ids: string[], tag: string, remove: boolean): Promise<void> {
    const a = this.analysis;
    if (!a || !this.view) return;
    const store = await updateTags(this.projectDir, ids, tag, remove);
    a.tags = store;
    this.view.tags = store;
    this.view.tagTable = this.tagTableKeepingHistory(store);
    this.log.info(`tagged ${ids.length} example(s) ${remove ? 'without' : 'with'} "${tag}"`);
    // Only the tagged examples' tags and the tag table travel, not the dev columns again.
    this.sendUpdate({ tags: Object.fromEntries(ids.map((id) => [id, store[id] ?? []])), tagTable: this.view.tagTable });
  }

  private indexSplit(split: 'train' | 'dev' | 'test'): void {
    this.analysis?.dataset[split].ids.forEach((id, row) => this.index.set(id, { split, row }));
  }

  /** Where an example of the analysed data is (dev first; train and test indexed when first asked for). */
  private rowOf(id: string): { split: 'train' | 'dev' | 'test'; row: number } | undefined {
    const at = this.index.get(id);
    if (at || this.indexedAll) return at;
    this.indexedAll = true;
    this.indexSplit('train');
    this.indexSplit('test');
    return this.index.get(id);
  }

  private sendFeatures(requestId: number, ids: string[]): void {
    const a = this.analysis;
    if (!a) return;
    const { schema } = a.dataset;
    const F = schema.numeric.length;
    const K = schema.categorical.length;
    const numeric: number[][] = [];
    const categories: string[][] = [];
    for (const id of ids) {
      const at = this.rowOf(id);
      const p = at ? undefined : this.productionIndex.get(id);
      const rows = at ? a.dataset[at.split] : p !== undefined ? this.production?.rows : undefined;
      const row = at ? at.row : (p ?? 0);
      if (!rows) {
        numeric.push([]);
        categories.push([]);
        continue;
      }
      if (rows.images && schema.image) {
        numeric.push(this.pixelsOf(rows, row));
        categories.push([]);
        continue;
      }
      numeric.push(Array.from(rows.features.numeric.subarray(row * F, (row + 1) * F)));
      categories.push(rows.features.categories.slice(row * K, (row + 1) * K));
    }
    void this.panel.webview.postMessage({
      type: 'features',
      requestId,
      ids,
      numeric,
      categories,
    } satisfies ErrorAnalysisHostMessage);
  }

  /** What the panel draws of a row: image files' preprocessed pixels, channels last; a table's numeric features (data.image pixel columns). */
  private pixelsOf(rows: RunErrorAnalysis['dataset']['dev'], row: number): number[] {
    const { schema } = this.analysis!.dataset;
    if (rows.images && schema.image) return Array.from(planarToInterleaved(rows.images.pixels, row, schema.image));
    const F = schema.numeric.length;
    return Array.from(rows.features.numeric.subarray(row * F, (row + 1) * F));
  }

  /** The detail of a dev image: its file and the closest training images of each class (searched in a worker). */
  private async sendNeighbours(id: string): Promise<void> {
    const a = this.analysis;
    if (!a) return;
    const send = (result: NeighboursView) =>
      void this.panel.webview.postMessage({ type: 'neighbours', result } satisfies ErrorAnalysisHostMessage);
    const at = this.index.get(id);
    const { dev, train, schema } = a.dataset;
    if (!a.image || !at || at.split !== 'dev')
      return send({ id, byClass: [], message: 'The closest training images are shown for dev images.' });
    // Image files by their path; a table's rows (pixel columns) by their row in the data file.
    const fileOf = (rows: typeof dev, row: number) => rows.images?.files[row] ?? `data row ${rows.rowIndex[row]}`;
    const file = fileOf(dev, at.row);
    if (!a.neighbours && this.neighboursError) return send({ id, file, byClass: [], message: this.neighboursError });
    if (!a.neighbours) {
      // Made after the slices: answered when it comes.
      this.neighboursWanted = id;
      return send({ id, file, byClass: [], message: 'Finding the closest training images…' });
    }
    this.neighboursWanted = undefined;
    this.neighboursAbort?.abort();
    const abort = (this.neighboursAbort = new AbortController());
    const index = a.neighbours;
    try {
      const byClass = await neighboursInWorker(
        {
          index,
          devRow: at.row,
          classOf: Int32Array.from(train.y.subarray(0, train.features.n)),
          classes: schema.classes?.length ?? 1,
          k: NEIGHBOURS_PER_CLASS,
        },
        abort.signal,
      );
      send({
        id,
        file,
        kind: index.kind,
        metric: index.metric,
        byClass: byClass.map((list) =>
          list.map((nb) => ({
            id: train.ids[nb.row],
            file: fileOf(train, nb.row),
            distance: nb.distance,
            pixels: this.pixelsOf(train, nb.row),
          })),
        ),
      });
    } catch (e) {
      if (e instanceof CancelledError) return;
      const message = e instanceof Error ? e.message : String(e);
      this.log.warn(`error analysis: the closest training images of ${id} could not be found: ${message}`);
      send({ id, file, byClass: [], message });
    }
  }

  async findLabelErrors(): Promise<void> {
    if (this.labelErrors.status === 'running') return;
    this.labelAbort = new AbortController();
    this.labelErrors = { status: 'running', done: 0, total: 5 };
    this.sendUpdate({ labelErrors: this.labelErrors });
    try {
      const r = await labelIssuesOfRun({
        projectDir: this.projectDir,
        run: this.runId,
        signal: this.labelAbort.signal,
        onFold: (done, total) => {
          this.labelErrors = { status: 'running', done, total };
          this.sendUpdate({ labelErrors: this.labelErrors });
        },
      });
      const { table, dataset } = this.analysis!;
      const fileOf = (id: string) => {
        const at = this.index.get(id);
        return at && dataset[at.split].images?.files[at.row];
      };
      this.labelErrors = {
        status: 'done',
        folds: r.folds,
        issues: r.issues.slice(0, 500).map((x) => ({
          id: x.id,
          rowIndex: x.rowIndex ?? null,
          ...(fileOf(x.id) ? { file: fileOf(x.id) } : {}),
          split: x.split,
          given: labelOf(table, x.given),
          suggested: labelOf(table, x.suggested),
          score: x.score,
        })),
      };
    } catch (e) {
      this.labelErrors = { status: 'failed', message: e instanceof Error ? e.message : String(e) };
    }
    this.sendUpdate({ labelErrors: this.labelErrors });
  }

  /** Tags re-read from disk (another window or the CLI may have changed tags.json); nothing is sent when they did not change. */
  async reloadTags(): Promise<void> {
    if (!this.analysis) return;
    const store = await readTags(this.projectDir);
    const changed = changedTags(this.analysis.tags, store);
    if (Object.keys(changed).length === 0) return;
    this.analysis.tags = store;
    if (!this.view) return this.publish();
    this.view.tags = store;
    this.view.tagTable = this.tagTableKeepingHistory(store);
    this.log.info(
      `error analysis of run ${this.runId}: tags of ${Object.keys(changed).length} example(s) changed on disk`,
    );
    this.sendUpdate({ tags: changed, tagTable: this.view.tagTable });
  }

  /** The review queue's examples of this run's model as the view's columns (indexed for feature requests). */
  private readProductionColumns(queue: Awaited<ReturnType<typeof readReviewQueue>>) {
    const a = this.analysis!;
    this.productionText = JSON.stringify(queue);
    this.production = productionQueueOf(queue, a.dataset.schema);
    this.productionIndex = new Map(this.production.rows.ids.map((id, row) => [id, row]));
    return productionColumnsOf(this.production, a.table.classes);
  }

  /** The tag table for `store`; the earlier runs' counts are kept from the load (a refresh recounts them for new tags). */
  private tagTableKeepingHistory(store: TagStore): TagRow[] {
    const history = new Map(this.view!.tagTable.map((r) => [r.tag, r.history]));
    return this.withProduction(
      tagTable(this.analysis!.table, store).map((r) =>
        history.get(r.tag) ? { ...r, history: history.get(r.tag) } : r,
      ),
      store,
    );
  }

  private withProduction(rows: TagRow[], store: TagStore): TagRow[] {
    return withProductionCounts(rows, store, this.production?.rows.ids ?? []);
  }

  /** Re-reads the review queue (the Production source) and its tag counts: a full state, as it is rare. */
  async reloadProduction(): Promise<void> {
    if (!this.analysis || !this.view) return;
    const queue = await readReviewQueue(this.projectDir);
    if (!this.view) return;
    // The file watcher and Send to Error Analysis may both ask for the same queue.
    const text = JSON.stringify(queue);
    if (text === this.productionText) return;
    this.view.production = this.readProductionColumns(queue);
    this.view.tagTable = this.withProduction(
      this.view.tagTable.filter((r) => r.tagged > 0).map(({ production: _, ...r }) => r),
      this.view.tags,
    );
    this.log.info(
      `error analysis of run ${this.runId}: ${this.production!.items.length} queued production examples${this.production!.hidden ? ` (${this.production!.hidden} of another model not listed)` : ''}`,
    );
    this.publish();
  }

  override dispose(): void {
    this.imageLoop.dispose();
    this.labelAbort?.abort();
    this.loadAbort?.abort();
    this.neighboursAbort?.abort();
    super.dispose();
  }
}
