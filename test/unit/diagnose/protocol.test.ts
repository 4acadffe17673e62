// The Diagnostics panel's and Run Diagnostics view's messages: what each side accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verdictOf } from '../../../src/core/diagnose/biasVariance';
import {
  isDiagnosticsHostMessage,
  isDiagnosticsWebviewMessage,
  isRunDiagnosticsHostMessage,
  isRunDiagnosticsWebviewMessage,
} from '../../../src/protocol/diagnostics';

const verdict = verdictOf({ metric: 'accuracy', baseline: { error: 0.02 }, train: { accuracy: 0.99, f1: 0.99, logloss: 0.1 }, dev: { accuracy: 0.9, f1: 0.9, logloss: 0.3 } });
const diagnosis = { runId: 'r1', experiment: 'mlp', model: 'mlp', params: {}, project: { name: 'p', file: '/p/mlloop.json', task: 'classification', metric: 'accuracy' }, dataVersion: 'v', splits: { train: {} }, verdict, durationMs: 1 };

test("webview → host: only the panel's own messages, and a sweep needs a parameter", () => {
  for (const m of [{ type: 'ready' }, { type: 'computeLearningCurve' }, { type: 'cancelLearningCurve' }, { type: 'computeValidationCurve', param: 'l2' }, { type: 'openExperiment' }, { type: 'refresh' }, { type: 'openErrors', truth: '3', predicted: '8' }]) {
    assert.ok(isDiagnosticsWebviewMessage(m), m.type);
  }
  for (const m of [null, { type: 'computeValidationCurve' }, { type: 'computeValidationCurve', param: '' }, { type: 'train' }, { type: 'openErrors', truth: '3' }, { type: 'openErrors', truth: 3, predicted: 8 }]) assert.equal(isDiagnosticsWebviewMessage(m), false, JSON.stringify(m));
  assert.ok(isRunDiagnosticsWebviewMessage({ type: 'openPanel' }));
  assert.equal(isRunDiagnosticsWebviewMessage({ type: 'refresh' }), false);
});

test('host → webview: complete states validate, broken ones do not', () => {
  const loaded = { status: 'loaded', diagnosis, learningCurve: { status: 'running', done: 2, total: 10 }, validationCurve: { status: 'idle' }, sweepable: ['l2'] };
  assert.ok(isDiagnosticsHostMessage({ type: 'state', state: loaded }));
  assert.ok(isDiagnosticsHostMessage({ type: 'state', state: { ...loaded, diagnosis: { ...diagnosis, learningCurve: null } } }), 'the CLI writes null for no curve');
  assert.ok(isDiagnosticsHostMessage({ type: 'state', state: { status: 'loading', runId: 'r1' } }));
  assert.equal(isDiagnosticsHostMessage({ type: 'state', state: { ...loaded, learningCurve: { status: 'running' } } }), false);
  assert.equal(isDiagnosticsHostMessage({ type: 'state', state: { ...loaded, diagnosis: { ...diagnosis, verdict: { summary: 'x' } } } }), false);
  assert.ok(isRunDiagnosticsHostMessage({ type: 'state', state: { status: 'verdict', runId: 'r1', projectFile: '/p/mlloop.json', experiment: 'mlp', label: 'r1', verdict } }));
  assert.ok(isRunDiagnosticsHostMessage({ type: 'state', state: { status: 'empty', message: 'select a run' } }));
  assert.equal(isRunDiagnosticsHostMessage({ type: 'state', state: { status: 'verdict', runId: 'r1' } }), false);
});
