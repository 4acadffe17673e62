// The Error Analysis panel's image loop, host side: Augment… with a preview, find more like these,
// adding labelled images, and the embedding map. Every job runs in the image-loop worker
// (src/core/analysis/dataJobsWorker.ts); results go to the webview as protocol messages.
import type { VersionRecipe } from '../../core/data/dataVersions';
import { CancelledError } from '../../core/runtime/cancel';
import { inDataJobsWorker } from '../../core/analysis/dataJobsWorker';
import type {
  AugmentPreviewView,
  AugmentSourceRef,
  ErrorAnalysisHostMessage,
  ErrorAnalysisWebviewMessage,
  SimilarView,
  TransformProposalView,
} from '../../protocol/errorAnalysis';

type Msg<T extends ErrorAnalysisWebviewMessage['type']> = Extract<ErrorAnalysisWebviewMessage, { type: T }>;

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class ImageLoopHost {
  /** One job of each kind at a time: a newer request cancels the older. */
  private aborts = new Map<string, AbortController>();

  constructor(
    private readonly projectDir: string,
    private readonly runId: string,
    private readonly ctx: {
      post: (m: ErrorAnalysisHostMessage) => void;
      dataVersion: () => string | undefined;
      log: { info(m: string): void; warn(m: string): void };
    },
  ) {}

  private abortFor(kind: string): AbortSignal {
    this.aborts.get(kind)?.abort();
    const a = new AbortController();
    this.aborts.set(kind, a);
    return a.signal;
  }

  async handle(m: Msg<'augmentPreview'> | Msg<'similar'> | Msg<'embeddingMap'>): Promise<void> {
    if (m.type === 'augmentPreview') return this.preview(m);
    if (m.type === 'similar') return this.similar(m);
    return this.map();
  }

  private async preview(m: Msg<'augmentPreview'>): Promise<void> {
    const signal = this.abortFor('preview');
    let result: AugmentPreviewView;
    try {
      const r = await inDataJobsWorker(
        {
          job: 'preview',
          projectDir: this.projectDir,
          ...(this.ctx.dataVersion() ? { parentVersion: this.ctx.dataVersion() } : {}),
          source: m.source,
          count: m.count,
          seed: m.seed ?? 0,
          ...(m.proposals ? { proposals: m.proposals } : {}),
          previews: 16,
        },
        signal,
      );
      const { plan } = r;
      result = {
        source: m.source,
        count: plan.count,
        seed: plan.seed,
        proposals: plan.proposals,
        sources: plan.sources,
        sourcesAre: plan.sourcesAre,
        kindExamples: plan.kindExamples,
        kind: plan.kind,
        training: plan.training,
        images: r.previews,
      };
      this.ctx.log.info(
        `augmentation preview of ${describe(m.source)}: ${plan.proposals.map((p) => p.op).join(', ')} from ${plan.sources} training images`,
      );
    } catch (e) {
      if (e instanceof CancelledError) return;
      result = { source: m.source, message: messageOf(e) };
    }
    this.ctx.post({ type: 'augmentPreview', result });
  }

  /**
   * Writes an augmentation: of image files, the one the preview showed (same source, count, seed and
   * proposals); of a table, its rows (no preview).
   */
  augment(
    m: { source: AugmentSourceRef; count: number; seed?: number; proposals?: TransformProposalView[] },
    parentVersion: string | undefined,
    onProgress: (done: number, total: number) => void,
  ): Promise<VersionRecipe> {
    return inDataJobsWorker(
      {
        job: 'augment',
        projectDir: this.projectDir,
        ...(parentVersion ? { parentVersion } : {}),
        source: m.source,
        count: m.count,
        seed: m.seed ?? 0,
        ...(m.proposals ? { proposals: m.proposals } : {}),
      },
      this.abortFor('augment'),
      onProgress,
    );
  }

  addImages(picks: { file: string; label: string }[], parentVersion: string | undefined): Promise<VersionRecipe> {
    return inDataJobsWorker(
      { job: 'addImages', projectDir: this.projectDir, ...(parentVersion ? { parentVersion } : {}), picks },
      this.abortFor('addImages'),
    );
  }

  private async similar(m: Msg<'similar'>): Promise<void> {
    const signal = this.abortFor('similar');
    let result: SimilarView;
    try {
      const r = await inDataJobsWorker(
        { job: 'similar', projectDir: this.projectDir, run: this.runId, source: m.source, k: m.k ?? 8 },
        signal,
      );
      const view = (list: (typeof r.results)['train']) =>
        list.map((x) => ({
          id: x.id,
          file: x.file,
          ...(x.label !== undefined ? { label: r.classes[x.label] ?? String(x.label) } : {}),
          distance: x.distance,
          pixels: x.pixels ?? [],
        }));
      result = {
        source: m.source,
        train: view(r.results.train),
        dev: view(r.results.dev),
        unlabelled: view(r.results.unlabelled),
        hasUnlabelled: r.unlabelledFolder !== undefined,
        skipped: r.skipped.map((s) => `${s.file}: ${s.error}`),
      };
    } catch (e) {
      if (e instanceof CancelledError) return;
      this.ctx.log.warn(`similar images of run ${this.runId}: ${messageOf(e)}`);
      result = { source: m.source, message: messageOf(e) };
    }
    this.ctx.post({ type: 'similar', result });
  }

  private async map(): Promise<void> {
    const signal = this.abortFor('map');
    try {
      const t0 = Date.now();
      const map = await inDataJobsWorker({ job: 'map', projectDir: this.projectDir, run: this.runId }, signal);
      this.ctx.log.info(`embedding map of run ${this.runId}: ${map.ids.length} dev images in ${Date.now() - t0} ms`);
      const { runId: _, ...rest } = map;
      this.ctx.post({ type: 'embeddingMap', result: rest });
    } catch (e) {
      if (e instanceof CancelledError) return;
      this.ctx.post({ type: 'embeddingMap', result: { message: messageOf(e) } });
    }
  }

  dispose(): void {
    for (const a of this.aborts.values()) a.abort();
  }
}

function describe(s: AugmentSourceRef): string {
  return 'tag' in s ? `tag "${s.tag}"` : `slice ${s.slice}`;
}
