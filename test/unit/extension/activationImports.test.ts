// What activation loads: the modules reachable from src/extension/extension.ts through static
// imports only (a dynamic import() is loaded when its handler first runs). Heavy modules must not
// be among them; the extension host then never evaluates them at startup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as esbuild from 'esbuild';

const root = join(__dirname, '..', '..', '..');
const HEAVY =
  /node_modules[\\/](onnxruntime-node|onnxruntime-common|chart\.js|ajv|onnx-proto|protobufjs|prom-client)[\\/]|src[\\/]core[\\/]onnx[\\/]/;

async function staticallyReached(entry: string): Promise<string[]> {
  const result = await esbuild.build({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    outfile: 'activation-probe.js',
    logLevel: 'silent',
    plugins: [
      {
        name: 'keep-dynamic-imports-out',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (a) =>
            a.kind === 'dynamic-import' ? { path: a.path, external: true } : undefined,
          );
          // vscode is provided by the editor; onnxruntime-node is external in the real build, but
          // here it is followed so that a static import of it would show up.
          b.onResolve({ filter: /^vscode$/ }, (a) => ({ path: a.path, external: true }));
        },
      },
    ],
  });
  return Object.keys(result.metafile.inputs);
}

test('activation reaches no heavy module (onnxruntime, chart.js, ajv, ONNX building)', async () => {
  const reached = await staticallyReached('src/extension/extension.ts');
  assert.ok(
    reached.some((f) => f.endsWith('src/extension/commands.ts')),
    'the probe did not follow static imports',
  );
  assert.deepEqual(
    reached.filter((f) => HEAVY.test(f)),
    [],
  );
});

test('the probe does see a heavy module imported statically', async () => {
  const reached = await staticallyReached('src/protocol/data.ts');
  assert.ok(!reached.some((f) => HEAVY.test(f)));
  // webview/data/main.ts imports chart.js statically: the probe must report it.
  const webview = await staticallyReached('webview/data/main.ts');
  assert.ok(webview.some((f) => /chart\.js/.test(f)));
});
