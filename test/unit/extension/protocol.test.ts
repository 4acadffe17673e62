import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDataHostMessage, isDataProfile, isDataWebviewMessage } from '../../../src/protocol/data';
import { sampleProfile } from './fixtures/profile';

test('webview → host: the panel accepts only its own message kinds', () => {
  for (const m of [{ type: 'ready' }, { type: 'refresh' }, { type: 'openDataFile' }])
    assert.ok(isDataWebviewMessage(m), m.type);
  for (const m of [null, 'ready', {}, { type: 'train' }, [{ type: 'ready' }]])
    assert.equal(isDataWebviewMessage(m), false, JSON.stringify(m));
});

test('host → webview: complete states of each status validate', () => {
  assert.ok(isDataHostMessage({ type: 'state', state: { status: 'loading', projectFile: 'mlloop.json' } }));
  assert.ok(
    isDataHostMessage({ type: 'state', state: { status: 'error', projectFile: 'mlloop.json', message: 'no data' } }),
  );
  assert.ok(
    isDataHostMessage({
      type: 'state',
      state: { status: 'loaded', projectFile: 'mlloop.json', profile: sampleProfile() },
    }),
  );
});

test('host → webview: malformed states are refused', () => {
  assert.equal(isDataHostMessage({ type: 'state', state: { status: 'error', projectFile: 'x' } }), false);
  assert.equal(isDataHostMessage({ type: 'state', state: { status: 'done', projectFile: 'x' } }), false);
  assert.equal(isDataHostMessage({ type: 'state', state: { status: 'loaded', projectFile: 'x', profile: {} } }), false);
});

test('a profile with a broken column, finding or image block is not a DataProfile', () => {
  assert.ok(isDataProfile(sampleProfile()));
  const badHistogram = sampleProfile();
  (badHistogram.columns[0].stats as { histogram: unknown }).histogram = { edges: [0, 1], counts: 'many' };
  assert.equal(isDataProfile(badHistogram), false);
  const badKind = sampleProfile();
  (badKind.columns[1].stats as { kind: string }).kind = 'text';
  assert.equal(isDataProfile(badKind), false);
  const badFinding = sampleProfile();
  (badFinding.findings as unknown[]).push({ severity: 'warning' });
  assert.equal(isDataProfile(badFinding), false);
  const badImages = sampleProfile();
  (badImages as { imageSamples: unknown }).imageSamples = { width: 8 };
  assert.equal(isDataProfile(badImages), false);
});
