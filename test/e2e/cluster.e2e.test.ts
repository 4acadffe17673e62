// Training on a SLURM cluster in a real VS Code, as a person does it: Train on Cluster… from an
// experiment's context menu in the Experiments tree submits it to a real one-node SLURM on this
// machine (test/runners/slurm-cluster.mjs); the run shows queued (with SLURM's reason while another
// job holds both CPUs), then running, then completed with its curve in the Training panel.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo } from '../runners/demo.mjs';
import { slurmInstalled, startSlurmCluster } from '../runners/slurm-cluster.mjs';
import { irisProject } from '../unit/scripts/fixtures';
import { trainer } from '../slurm/fixtures';
import { ExperimentsView, PanelFrame } from './pages/experiments';
import { editorLogLines, openSession, type Session } from './session';

/** The id suffix a run row's label ends with ("<experiment> <suffix>" when the run has no name). */
const runIdSuffix = (label: string): string => label.slice(label.lastIndexOf(' ') + 1);

const STEPS = 5;

function project(): string {
  const dir = irisProject({});
  const command = trainer(dir, { steps: STEPS, delayMs: 1500 });
  const spec = JSON.parse(readFileSync(join(dir, 'mlloop.json'), 'utf8'));
  spec.baseline = { error: 0.05, source: 'human-level' };
  spec.clusters = { local: { kind: 'slurm', partition: 'debug', cpusPerTask: 2, time: '00:10:00' } };
  // A longer job for the reopened window: still running when a new code-server is up (about 20 s).
  spec.experiments = {
    'cluster-net': { command, params: { lr: 0.1 } },
    'cluster-long': { command: trainer(dir, { steps: 30, delayMs: 1500 }), params: { lr: 0.1 } },
  };
  writeFileSync(join(dir, 'mlloop.json'), JSON.stringify(spec, null, 2));
  return dir;
}

/** The ML Loop output channel's lines about runs and clusters (for a failure message). */
function mlLoopLog(userDataDir: string): string {
  return (
    editorLogLines(userDataDir, ['ML Loop.log'], /run |SLURM|cluster/)
      .slice(-30)
      .join('\n') || '(none)'
  );
}

describe(
  'training on a SLURM cluster in a real VS Code',
  { skip: slurmInstalled() ? false : 'SLURM is not installed (apt-get install -y slurm-wlm munge)' },
  () => {
    let stopCluster: (() => void) | undefined;
    let s: Session | undefined;
    const folder = project();

    before(async () => {
      // SLURM_CONF is set in this process's environment: code-server and the extension host inherit it.
      stopCluster = (await startSlurmCluster()).stop;
    });
    after(async () => {
      await s?.close();
      try {
        execFileSync('scancel', ['--user=root'], { stdio: 'ignore' });
      } catch {
        // nothing to cancel
      }
      stopCluster?.();
      rmSync(folder, { recursive: true, force: true });
    });

    test('Train on Cluster… from the tree: queued (SLURM says why), running, completed with its curve', async () => {
      const demo = await startDemo({ folder });
      s = await openSession(demo, demo.openUrl, 'cluster');
      await s.workbench.waitReady(120_000);
      await s.workbench.sidebar.openProject('cluster-net');
      const tree = new ExperimentsView(s.page);
      // A job of someone else holds both CPUs for a while: ours waits in the queue.
      const blocker = join(folder, 'blocker.sh');
      writeFileSync(blocker, '#!/bin/bash\nsleep 25\n');
      execFileSync('sbatch', ['--parsable', '--cpus-per-task=2', '--output=/dev/null', blocker]);
      await tree.experimentAction('cluster-net', 'Train on Cluster');

      const queued = await tree.waitForRun(/queued \((Resources|Priority)\).*local job \d+/, 60_000);
      await s.workbench.screenshot('cluster-queued');
      await tree.waitForRun(/running.*local job \d+/, 60_000).catch(async (e: Error) => {
        await s!.workbench.screenshot('cluster-not-running');
        throw new Error(
          `${e.message}\nrows: ${JSON.stringify(await tree.runs())}\nML Loop log:\n${mlLoopLog(demo.userDataDir)}`,
        );
      });
      const panel = new PanelFrame(s.page, 'training');
      await panel.waitFor('[data-status="running"]', 60_000);
      await s.workbench.screenshot('cluster-running');
      const root = await panel.waitFor('[data-status="completed"]', 120_000);
      await tree.waitForRun(/acc/, 60_000);
      assert.equal(await root.getAttribute('data-last-step'), String(STEPS));
      const points = JSON.parse((await root.getAttribute('data-chart-points')) ?? '[]') as number[];
      assert.ok(points.length >= 2 && points.every((n) => n === STEPS), JSON.stringify(points));
      const devRow = (await root.locator('tr[data-split="dev"]').innerText()).trim();
      assert.match(devRow, /dev/);
      await s.workbench.screenshot('cluster-completed');

      const [runId] = readdirSync(join(folder, '.mlloop', 'runs')).filter((d) => d.endsWith(runIdSuffix(queued)));
      assert.ok(runId.endsWith(runIdSuffix(queued)));
      const record = JSON.parse(readFileSync(join(folder, '.mlloop', 'runs', runId, 'run.json'), 'utf8'));
      assert.equal(record.status, 'completed');
      assert.equal(record.cluster.cluster, 'local');
      assert.ok(record.metrics.dev);
    });

    test('a window opened while a job runs (submitted from the CLI, or before a restart) follows it to the end', async () => {
      await s?.close();
      s = undefined;
      const { runCli } = await import('../../src/cli/main');
      const out: string[] = [];
      const code = await runCli(['train', folder, '-e', 'cluster-long', '--cluster', 'local', '--detach'], {
        out: (t) => out.push(t),
        err: () => undefined,
        cwd: folder,
      });
      assert.equal(code, 0, out.join('\n'));
      const demo = await startDemo({ folder });
      s = await openSession(demo, demo.openUrl, 'cluster-reopen');
      await s.workbench.waitReady(120_000);
      await s.workbench.sidebar.openProject('cluster-long');
      const tree = new ExperimentsView(s.page);
      // The older run completed in the first test; the new one is picked up from the store by its job id.
      const label = await tree.waitForRun(/(queued|running).*local job \d+/, 60_000);
      await s.workbench.screenshot('cluster-picked-up');
      const rows = async () => (await tree.runs()).find((r) => r.label === label)?.description ?? '';
      const deadline = Date.now() + 150_000;
      while (!/acc/.test(await rows())) {
        if (Date.now() > deadline)
          throw new Error(`run ${label} did not complete: ${await rows()}\n${mlLoopLog(demo.userDataDir)}`);
        await s.page.waitForTimeout(500);
      }
      const runId = readdirSync(join(folder, '.mlloop', 'runs')).find((d) => d.endsWith(runIdSuffix(label)))!;
      const record = JSON.parse(readFileSync(join(folder, '.mlloop', 'runs', runId, 'run.json'), 'utf8'));
      assert.equal(record.status, 'completed');
      assert.ok(record.metrics.dev, 'evaluated by the window that picked it up');
      assert.match(
        mlLoopLog(demo.userDataDir),
        new RegExp(`run ${runId}: following SLURM job \\d+ on cluster "local" again`),
      );
    });
  },
);
