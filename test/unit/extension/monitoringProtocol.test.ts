// The Monitoring panel's messages are validated on arrival on both sides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isMonitoringHostMessage, isMonitoringWebviewMessage } from '../../../src/protocol/monitoring';
import { report } from '../monitor/fixtures';

const deployment = {
  name: 'iris',
  projectDir: '/p',
  url: 'http://127.0.0.1:1',
  running: true,
  logging: true,
  production: '1',
  candidate: null,
  previousProduction: null,
  runs: { '1': 'r1' },
};

test('webview messages: ready and the known actions only', () => {
  assert.ok(isMonitoringWebviewMessage({ type: 'ready' }));
  for (const action of ['refresh', 'retrain', 'promote', 'rollback', 'sendToErrorAnalysis', 'openLogs'])
    assert.ok(isMonitoringWebviewMessage({ type: 'action', action }), action);
  assert.ok(!isMonitoringWebviewMessage({ type: 'action', action: 'deleteEverything' }));
  assert.ok(!isMonitoringWebviewMessage({ type: 'action' }));
  assert.ok(!isMonitoringWebviewMessage('refresh'));
});

test('host snapshots: loading, error, loaded with a report, alerts and a gate; malformed ones refused', () => {
  assert.ok(isMonitoringHostMessage({ type: 'state', state: { status: 'loading', deployment: 'iris' } }));
  assert.ok(isMonitoringHostMessage({ type: 'state', state: { status: 'error', deployment: 'iris', message: 'x' } }));
  const loaded = {
    status: 'loaded',
    deployment,
    report: report(),
    alerts: [{ deployment: 'iris', kind: 'data-drift', message: 'm' }],
  };
  assert.ok(isMonitoringHostMessage({ type: 'state', state: loaded }));
  const gate = {
    productionRunId: 'a',
    candidateRunId: 'b',
    dataVersion: 'v',
    production: { train: 1 },
    comparison: { groups: [] },
  };
  assert.ok(isMonitoringHostMessage({ type: 'state', state: { ...loaded, gate } }));
  assert.ok(!isMonitoringHostMessage({ type: 'state', state: { ...loaded, report: { features: 'no' } } }));
  assert.ok(!isMonitoringHostMessage({ type: 'state', state: { ...loaded, alerts: [{ kind: 1 }] } }));
  assert.ok(!isMonitoringHostMessage({ type: 'state', state: { ...loaded, gate: { candidateRunId: 'b' } } }));
  assert.ok(!isMonitoringHostMessage({ type: 'state', state: { ...loaded, deployment: { name: 'iris' } } }));
});

test('host snapshots of an image deployment: image tiles validated (src, caption, title)', () => {
  const tile = { src: 'https://file+.vscode-resource/p/a.png', caption: 'shirt 62 %', title: 'request r1' };
  const loaded = { status: 'loaded', deployment, report: report(), alerts: [] };
  const images = { samples: [tile], reference: [{ ...tile, caption: 'shirt' }], worst: [{ ...tile, wrong: true }] };
  assert.ok(isMonitoringHostMessage({ type: 'state', state: { ...loaded, images } }));
  assert.ok(!isMonitoringHostMessage({ type: 'state', state: { ...loaded, images: { samples: [tile] } } }));
  assert.ok(
    !isMonitoringHostMessage({ type: 'state', state: { ...loaded, images: { ...images, worst: [{ src: 1 }] } } }),
  );
});
