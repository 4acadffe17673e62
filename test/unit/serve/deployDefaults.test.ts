// What a default deploy gives a client: the model named after the project (the README's
// /v2/models/iris, the same from the CLI and the editor), and the asked-for port, or a free one
// said on the listening line when it is taken (the editor passes --port-fallback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe } from '../../../src/cli/commands/serve';
import { deploymentName, resolveModel } from '../../../src/core/serve/source';
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';

const IRIS = join(__dirname, '..', '..', '..', 'examples', 'iris');

function capture() {
  const out: string[] = [];
  return { out, io: { out: (t: string) => out.push(t), err: (t: string) => out.push(t), cwd: tmpdir() } };
}

test('a run deploys under its project\'s name, from a run id or a model path; without a project name, its experiment', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-deploy-'));
  try {
    cpSync(IRIS, dir, { recursive: true, filter: (src) => !src.includes('.mlloop') });
    const o = await trainExperiment({ projectDir: dir, experimentName: 'logistic' });
    assert.equal(resolveModel(o.runId, dir).defaultName, 'iris');
    assert.equal(resolveModel(o.model!, tmpdir()).defaultName, 'iris');
    assert.equal(deploymentName(join(dir, 'nowhere'), 'mlp'), 'mlp');
    const c = capture();
    const { server, name } = await startServe(['--model', o.runId, '--project', dir, '--port', '0', '--json'], c.io);
    try {
      assert.equal(name, 'iris');
      assert.equal(JSON.parse(c.out[0]).name, 'iris');
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--port-fallback: a taken port gives a free one, named on the listening line; without it the taken port fails', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const taken = (blocker.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'mlloop-port-'));
  try {
    cpSync(IRIS, dir, { recursive: true, filter: (src) => !src.includes('.mlloop') });
    const o = await trainExperiment({ projectDir: dir, experimentName: 'logistic' });
    const c = capture();
    const { server } = await startServe(['--model', o.runId, '--project', dir, '--port', String(taken), '--port-fallback', '--json'], c.io);
    try {
      const line = JSON.parse(c.out[0]);
      assert.equal(line.portTaken, taken);
      assert.notEqual(new URL(line.url).port, String(taken));
    } finally {
      await server.close();
    }
    await assert.rejects(startServe(['--model', o.runId, '--project', dir, '--port', String(taken), '--json'], capture().io), /EADDRINUSE/);
  } finally {
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
