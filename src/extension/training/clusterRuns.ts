// Runs on a SLURM cluster, from the editor: Train on Cluster submits (src/core/cluster) and this
// window follows the jobs — one ClusterFollower polling SLURM asynchronously (child processes; the
// extension host never waits on them). A run that starts running becomes an active run of the
// RunTracker, so the tree, the status bar and the Training panel show its curves exactly as for a
// local run; queued runs show SLURM's reason from run.json. On activation the runs a cluster still
// has (queued or running in the store) are followed again.
import * as path from 'node:path';
import * as vscode from 'vscode';
// The cluster core (data loading, ONNX evaluation) loads on first use, not at activation.
import type { ClusterFollower, ClusterSubmission } from '../../core/cluster/clusterRun';
import { keyMetric } from '../../core/track/format';
import type { RunRecord } from '../../core/train/runStore';
import type { Project, ProjectIndex } from '../project/projectIndex';
import type { RunTracker } from './runTracker';
import { projectDirOf } from './runTracker';

export class ClusterRuns implements vscode.Disposable {
  private follower?: Promise<ClusterFollower>;
  /** Runs followed by this window, by id: their project and experiment. */
  private readonly followed = new Map<string, { projectDir: string; experiment: string }>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly runs: RunTracker,
    private readonly projects: ProjectIndex,
    private readonly log: vscode.LogOutputChannel,
    /** The extension's CLI bundle (dist/cli.js): what a built-in experiment's job runs with Node on the node. */
    private readonly cliPath: string,
  ) {
    this.subscriptions.push(projects.onDidChange(() => void this.resumeAll()));
  }

  private followerNow(): Promise<ClusterFollower> {
    this.follower ??= import('../../core/cluster/clusterRun').then(
      ({ ClusterFollower }) =>
        new ClusterFollower({
          onChange: (projectDir, runId, record) => this.onChange(projectDir, runId, record),
          onProgress: (runId, e) => this.runs.reportProgress(runId, e),
          onWarning: (runId, message) => this.log.warn(`run ${runId}: ${message}`),
        }),
    );
    return this.follower;
  }

  /** Follows again every run of the workspace's projects that a cluster still has (after a restart of the editor). */
  async resumeAll(): Promise<void> {
    for (const project of await this.projects.list()) {
      const projectDir = projectDirOf(project);
      const index = await this.runs.index(projectDir);
      for (const run of index.all()) {
        const r = run.record;
        if (!r.cluster?.jobId || (r.status !== 'queued' && r.status !== 'running') || this.followed.has(run.runId))
          continue;
        this.log.info(
          `run ${run.runId}: following SLURM job ${r.cluster.jobId}${r.cluster.arrayTaskId !== undefined ? `_${r.cluster.arrayTaskId}` : ''} on cluster "${r.cluster.cluster}" again (${r.status})`,
        );
        this.follow(projectDir, run.runId, r.experiment, r.status === 'running');
      }
    }
  }

  /** Submits an experiment (a sweep as one job array) and follows its runs; resolves once submitted. */
  async submit(project: Project, experiment: string, cluster?: string): Promise<ClusterSubmission> {
    const projectDir = projectDirOf(project);
    const { submitClusterExperiment } = await import('../../core/cluster/clusterRun');
    const submission = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `ML Loop: submitting ${experiment} to ${cluster ?? 'its cluster'}`,
      },
      () =>
        submitClusterExperiment({
          projectDir,
          experimentName: experiment,
          cluster,
          cliPath: this.cliPath,
          onRunCreated: (id) => this.runs.schedule(projectDir, id),
        }),
    );
    this.log.info(
      `${experiment}: submitted to cluster "${submission.cluster}" as SLURM job ${submission.jobId} (${submission.runs.length} run${submission.runs.length === 1 ? '' : 's'})`,
    );
    for (const r of submission.runs) this.follow(projectDir, r.runId, experiment, false);
    return submission;
  }

  private follow(projectDir: string, runId: string, experiment: string, running: boolean): void {
    this.followed.set(runId, { projectDir, experiment });
    if (running) this.activate(projectDir, runId, experiment);
    void this.followerNow()
      .then((f) => f.follow(projectDir, runId))
      .catch((e: Error) => this.log.error(`run ${runId}: ${e.message}`));
  }

  /** A running cluster run is an active run of the tracker: its cancel switch cancels the job. */
  private activate(projectDir: string, runId: string, experiment: string): void {
    if (this.runs.activeRun(runId)) return;
    const abort = new AbortController();
    abort.signal.addEventListener('abort', () => void this.cancel(runId, false));
    this.runs.startActive({ runId, projectDir, experiment, abort });
  }

  private onChange(projectDir: string, runId: string, record: RunRecord): void {
    const f = this.followed.get(runId);
    this.runs.schedule(projectDir, runId);
    if (record.status === 'running') return this.activate(projectDir, runId, record.experiment);
    if (record.status === 'queued' || !f) return;
    this.followed.delete(runId);
    this.runs.endActive(runId);
    const how = `${record.experiment} (run ${runId}, SLURM job ${record.cluster?.jobId}${record.cluster?.arrayTaskId !== undefined ? `_${record.cluster.arrayTaskId}` : ''})`;
    if (record.status === 'completed') {
      void this.projects.list().then((projects) => {
        const metric = keyMetric(record, projects.find((p) => projectDirOf(p) === projectDir)?.outline.metric);
        this.log.info(`run ${runId}: completed on the cluster${metric ? ` · ${metric}` : ''}`);
        void vscode.window.showInformationMessage(`ML Loop: ${how} completed${metric ? ` · ${metric}` : ''}`);
      });
    } else if (record.status === 'failed') {
      this.log.warn(`run ${runId}: failed on the cluster: ${record.error?.message}`);
      void vscode.window.showErrorMessage(`ML Loop: ${how} failed: ${record.error?.message ?? 'unknown error'}`);
    } else {
      this.log.info(`run ${runId}: ${record.status}`);
    }
  }

  isFollowing(runId: string): boolean {
    return this.followed.has(runId);
  }

  /** scancel of a followed run (or its whole job array); the next poll records the cancelled state. */
  async cancel(runId: string, wholeArray: boolean): Promise<void> {
    this.log.info(`run ${runId}: scancel${wholeArray ? ' (the whole job array)' : ''}`);
    await (await this.followerNow()).cancel(runId, wholeArray).catch((e: Error) => {
      this.log.error(`run ${runId}: ${e.message}`);
      void vscode.window.showErrorMessage(`ML Loop: could not cancel run ${runId}: ${e.message}`);
    });
  }

  dispose(): void {
    void this.follower?.then((f) => f.dispose());
    for (const s of this.subscriptions) s.dispose();
  }
}

/** The cluster to submit to: the experiment's own, the only one, or the user's pick; undefined when the user backs out. */
export async function pickCluster(project: Project, experiment: string): Promise<string | undefined> {
  const clusters = project.outline.clusters ?? [];
  if (clusters.length === 0)
    throw new Error(
      `${path.basename(project.file.fsPath)} has no "clusters": add one (e.g. "clusters": { "gpu": { "kind": "slurm", "partition": "gpu" } }) to train on SLURM`,
    );
  const own = project.outline.experiments.find((e) => e.name === experiment)?.cluster;
  if (own && clusters.includes(own)) return own;
  if (clusters.length === 1) return clusters[0];
  return (
    (await vscode.window.showQuickPick(clusters, { placeHolder: `Train ${experiment} on which cluster?` })) ?? undefined
  );
}
