// Alerts from a report (drift, prediction drift, live accuracy below dev) and the once-per-window rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertThrottle, alertsOf } from '../../../src/core/monitor/alerts';
import { feature, report } from './fixtures';

test('a report crossing thresholds raises accuracy, data and prediction drift alerts, naming the drifted features worst first', () => {
  const alerts = alertsOf('iris', report());
  assert.deepEqual(
    alerts.map((a) => a.kind),
    ['accuracy-drop', 'data-drift', 'prediction-drift'],
  );
  assert.match(alerts[0].message, /live accuracy dropped to 70\.0 % vs 97\.0 % on dev \(40 labelled requests\)/);
  assert.deepEqual(alerts[1].features, ['petal_length', 'petal_width']);
  assert.match(alerts[1].message, /data drift in 2 of 4 features .*: petal_length, petal_width$/);
});

test('no alert without drift; a small accuracy dip within the tolerance raises none', () => {
  const quiet = report({
    dataset: { drifted: 0, total: 4, share: 0, threshold: 0.5, drift: false },
    prediction: { ...report().prediction!, drifted: false },
    live: { ...report().live!, value: 0.95 },
  });
  assert.deepEqual(alertsOf('iris', quiet), []);
  assert.equal(alertsOf('iris', quiet, { accuracyDrop: 0.01 }).length, 1);
});

test('notified once per editor window, per deployment and kind: later reports stay quiet, even over new requests', () => {
  const t = new AlertThrottle();
  const w = (from: string, to: string) => ({
    kind: 'requests' as const,
    requests: 10,
    rows: 10,
    from: `2026-11-27T10:${from}.000Z`,
    to: `2026-11-27T10:${to}.000Z`,
  });
  const a = { deployment: 'iris', kind: 'data-drift' as const };
  assert.equal(t.shouldNotify(a, w('00:00', '05:00')), true);
  assert.equal(t.shouldNotify(a, w('01:00', '06:00')), false, 'the window still holds requests of the alerted one');
  assert.equal(t.shouldNotify(a, w('05:00', '09:00')), false, 'shares the last request');
  assert.equal(t.shouldNotify({ ...a, kind: 'accuracy-drop' }, w('01:00', '06:00')), true);
  assert.equal(t.shouldNotify({ ...a, deployment: 'other' }, w('01:00', '06:00')), true);
  assert.equal(
    t.shouldNotify(a, w('05:01', '10:00')),
    false,
    'a dismissed alert does not come back with a newer window',
  );
  assert.equal(t.shouldNotify(a, w('20:00', '30:00')), false);
  assert.equal(t.shouldNotify(a, { kind: 'requests', requests: 0, rows: 0 }), false);
  t.forget('iris');
  assert.equal(t.shouldNotify(a, w('06:00', '07:00')), true);
});

test('an image deployment whose embeddings drift raises one embedding-drift alert naming the drifted image properties', () => {
  const r = report({
    dataset: { drifted: 1, total: 4, share: 0.25, threshold: 0.5, drift: false },
    prediction: { ...report().prediction!, drifted: false },
    live: undefined,
    features: [feature('brightness', { drifted: true, score: 0.9 }), feature('width')],
    embedding: {
      method: 'domain-classifier',
      rocAuc: 0.93,
      threshold: 0.58,
      drifted: true,
      referenceRows: 150,
      currentRows: 150,
      heldOut: 75,
      dim: 64,
    },
  });
  const alerts = alertsOf('fashion', r);
  assert.deepEqual(
    alerts.map((a) => a.kind),
    ['embedding-drift'],
  );
  assert.deepEqual(alerts[0].features, ['brightness']);
  assert.match(alerts[0].message, /ROC AUC 0\.930 > 0\.580\); drifted image properties: brightness$/);
  const t = new AlertThrottle();
  const w = { kind: 'requests' as const, requests: 150, rows: 150, from: 'a', to: 'b' };
  assert.equal(t.shouldNotify(alerts[0], w), true);
  assert.equal(t.shouldNotify(alerts[0], { ...w, to: 'c' }), false);
});
