import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, makeNonce, renderWebviewHtml } from '../../../src/extension/webviewHost/html';

const parts = {
  title: 'Data <x>',
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/data.js',
  styleUris: ['https://file+.vscode-resource.vscode-cdn.net/ext/media/webview.css'],
  nonce: 'abc123',
};

test('nonces are 128 random bits, fresh each time', () => {
  const a = makeNonce();
  assert.equal(Buffer.from(a, 'base64').length, 16);
  assert.notEqual(a, makeNonce());
});

test('the CSP denies by default and allows scripts only by nonce', () => {
  const csp = contentSecurityPolicy(parts.cspSource, 'N');
  const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
  assert.deepEqual(directives['default-src'], ["'none'"]);
  assert.deepEqual(directives['script-src'], ["'nonce-N'"]);
  assert.deepEqual(directives['style-src'], [parts.cspSource, "'nonce-N'"]);
  assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval') && !csp.includes('*'));
});

test('the page loads its one script with the nonce and escapes the title', () => {
  const html = renderWebviewHtml(parts);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-abc123';/);
  const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
  assert.deepEqual(scripts, [` nonce="abc123" src="${parts.scriptUri}"`]);
  assert.ok(html.includes(`<link rel="stylesheet" href="${parts.styleUris[0]}" nonce="abc123">`));
  // The toolkit's own <style> element takes its nonce from this meta (else the CSP refuses it on every panel).
  assert.ok(html.includes(`<meta property="csp-nonce" content="abc123">`));
  assert.ok(html.includes('<title>Data &lt;x&gt;</title>'));
  assert.ok(html.includes('<main id="root"></main>'));
});

test('a panel restore key travels as an escaped meta element (and is absent without one)', () => {
  const key = JSON.stringify({ projectDir: '/p/"quoted" <dir>', runId: 'r&1' });
  const html = renderWebviewHtml({ ...parts, restoreKey: key });
  const meta = /<meta name="mlloop-panel" content="([^"]*)">/.exec(html);
  assert.ok(meta, html);
  const decoded = meta[1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  assert.deepEqual(JSON.parse(decoded), { projectDir: '/p/"quoted" <dir>', runId: 'r&1' });
  assert.ok(!renderWebviewHtml(parts).includes('mlloop-panel'));
});
