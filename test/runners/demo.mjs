// `npm run demo`: sets everything up and opens the digits sample in VS Code (code-server in the
// browser) with ML Loop loaded from this checkout, then prints the URL. The e2e suite drives the
// same function, so its screenshots show what a new user sees.
//   npm run demo [-- --port 8080] [-- --folder examples/iris]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { root, ensureCodeServer, startCodeServer, freePort } from './code-server.mjs';

export const DEFAULT_FOLDER = join(root, 'examples', 'digits');

function step(cmd, args, what) {
  console.log(`[demo] ${what}…`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status})`);
}

/** Installs dependencies and builds when needed (what a fresh clone lacks). */
export function prepare({ build = true } = {}) {
  if (!existsSync(join(root, 'node_modules', '.package-lock.json')))
    step('npm', ['ci', '--no-audit', '--no-fund'], 'installing dependencies (npm ci)');
  if (build) step(process.execPath, [join(root, 'src/build/build.mjs'), '--no-typecheck'], 'building the extension');
  ensureCodeServer();
}

/**
 * Starts code-server on `folder` and returns the URL that opens it with this checkout loaded as
 * the extension under development. stop() ends the server.
 */
export async function startDemo({ folder = DEFAULT_FOLDER, port, settings, workspaceTrust } = {}) {
  if (!existsSync(join(folder, 'mlloop.json'))) throw new Error(`${folder} has no mlloop.json`);
  const server = await startCodeServer({ folder, port, settings, workspaceTrust });
  return { ...server, openUrl: server.workbenchUrl({ devPath: root }) };
}

async function portIsFree(port) {
  const { createServer } = await import('node:net');
  return new Promise((res) => {
    const s = createServer().once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

async function main() {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, folder: { type: 'string' }, 'no-build': { type: 'boolean' } },
  });
  const wanted = Number(values.port ?? process.env.PORT ?? 8080);
  prepare({ build: !values['no-build'] });
  const port = (await portIsFree(wanted)) ? wanted : await freePort();
  const demo = await startDemo({ folder: values.folder ? resolve(values.folder) : DEFAULT_FOLDER, port });
  console.log(
    `\nML Loop is running in VS Code (code-server) on the ${values.folder ?? 'examples/digits'} sample. Open:\n\n  ${demo.openUrl}\n\nPress Ctrl+C to stop.`,
  );
  const stop = async () => {
    await demo.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  setInterval(() => {}, 1 << 30);
}

// No top-level await: the TypeScript e2e specs load this module through tsx as CommonJS.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(`[demo] ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  });
}
