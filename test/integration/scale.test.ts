// The Experiments view with 2,000 runs in the store, inside a real extension host: the runs arrive
// as another process would write them, the view pages them (50, then a "more" row), a single
// change reaches the view, and they leave when deleted. The times are figures for the closing
// note (MLLOOP_FIGURE lines), not assertions: the machine is shared and noisy.
import * as assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { annotateRun } from '../../src/core/track/store';
import { createRun, finishRun } from '../../src/core/train/runStore';
import { activatedExtension, waitFor, workspaceRoot } from './helpers';
import { runsDir } from '../../src/core/spec/layout';

const RUNS = 2000;
const EXPERIMENT = 'gbdt';

describe('the Experiments view with 2,000 runs', () => {
  const projectDir = () => workspaceRoot().fsPath;
  const written: string[] = [];

  after(() => {
    for (const id of written) rmSync(path.join(runsDir(projectDir()), id), { recursive: true, force: true });
  });

  it('lists them a page at a time, follows one change, and drops them when deleted (times logged)', async function () {
    this.timeout(300_000);
    const tree = (await activatedExtension()).exports.experimentsTree;
    const item = async (n: unknown) => tree.getTreeItem(n);
    const experimentNode = async () => {
      for (const n of (await tree.getChildren()) ?? []) if ((await item(n)).label === EXPERIMENT) return n;
      throw new Error(`no ${EXPERIMENT} in the view`);
    };
    const moreRow = async () => {
      for (const n of (await tree.getChildren(await experimentNode())) ?? []) {
        const label = String((await item(n)).label);
        if (/^\d+ more runs?…$/.test(label)) return label;
      }
      return undefined;
    };
    const before = Number(/^(\d+)/.exec((await moreRow()) ?? '0')?.[1] ?? 0);

    const t0 = performance.now();
    for (let i = 0; i < RUNS; i++) {
      const run = createRun(projectDir(), { experiment: EXPERIMENT, model: 'gbdt', params: { iterations: i } });
      finishRun(run, {
        status: 'completed',
        metrics: {
          train: { accuracy: 1, f1: 1, logloss: 0.01 },
          dev: { accuracy: 0.5 + i / (4 * RUNS), f1: 0.5, logloss: 1 },
        },
      });
      written.push(run.runId);
    }
    const writeMs = performance.now() - t0;
    // Every new run reaches the view (50 shown, the rest behind the "more" row).
    const t1 = performance.now();
    await waitFor(
      async () => {
        const label = await moreRow();
        return !!label && Number(/^(\d+)/.exec(label)![1]) >= before + RUNS - 50 && label;
      },
      `the ${RUNS} runs in the view`,
      120_000,
    );
    const arrivalMs = performance.now() - t1;

    // Expanding the experiment: its first page of rows, as the view asks for them.
    const pageTimes: number[] = [];
    let rows: unknown[] = [];
    for (let k = 0; k < 7; k++) {
      const t = performance.now();
      rows = (await tree.getChildren(await experimentNode())) ?? [];
      await Promise.all(rows.map(item));
      pageTimes.push(performance.now() - t);
    }
    assert.equal(rows.length, 51, 'a page of 50 runs and the "more" row');
    // The top row is one of the newest runs (several share the last millisecond of start time).
    const newest = String((await item(rows[0])).id)
      .split('#')
      .pop()!;
    assert.ok(written.slice(-50).includes(newest), `the top row ${newest} is not among the last runs written`);

    // One run renamed by another process: the view shows the new name.
    const t2 = performance.now();
    annotateRun(projectDir(), newest, { name: 'renamed-in-2000' });
    await waitFor(
      async () => {
        const first = ((await tree.getChildren(await experimentNode())) ?? [])[0];
        return first !== undefined && (await item(first)).label === 'renamed-in-2000';
      },
      'the renamed run',
      60_000,
    );
    const oneChangeMs = performance.now() - t2;

    // Deleted from disk: they leave the view.
    const t3 = performance.now();
    for (const id of written.splice(0)) rmSync(path.join(runsDir(projectDir()), id), { recursive: true, force: true });
    await waitFor(
      async () => Number(/^(\d+)/.exec((await moreRow()) ?? '0')?.[1] ?? 0) <= before && true,
      'the runs to leave the view',
      120_000,
    );
    const removalMs = performance.now() - t3;

    const median = [...pageTimes].sort((a, b) => a - b)[3];
    const figure = {
      runs: RUNS,
      writeMs: Math.round(writeMs),
      arrivalMs: Math.round(arrivalMs),
      firstPageMs: Number(median.toFixed(2)),
      oneChangeMs: Math.round(oneChangeMs),
      removalMs: Math.round(removalMs),
    };
    console.log(`MLLOOP_FIGURE tree-2000-runs ${JSON.stringify(figure)}`);
  });
});
