// A real VS Code (1.100.3, from code-server 4.100.3 on the npm registry) for the integration and
// e2e tiers and for `npm run demo`. Installs itself offline into .cache/code-server/ (idempotent),
// starts on a free 127.0.0.1 port in its own process group, and stops that whole group.
//   node test/runners/code-server.mjs install
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
// The @vscode/ripgrep that code-server 4.100.3 ships looks for this tarball before downloading
// from GitHub; recheck both names when code-server is bumped.
const RIPGREP_CACHE_DIR = 'vscode-ripgrep-cache-1.15.11';
const RIPGREP_TARBALL = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cacheDir = join(root, '.cache', 'code-server');
const binPath = join(cacheDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

function log(msg) {
  console.log(`[code-server] ${msg}`);
}

/** Seeds @vscode/ripgrep's download cache with Debian's rg so its postinstall needs no internet. */
function seedRipgrepCache() {
  const dir = join(tmpdir(), RIPGREP_CACHE_DIR);
  const tarball = join(dir, RIPGREP_TARBALL);
  if (existsSync(tarball)) return;
  if (!existsSync('/usr/bin/rg')) throw new Error('ripgrep is missing: apt-get install -y ripgrep');
  mkdirSync(dir, { recursive: true });
  const staging = mkdtempSync(join(tmpdir(), 'rg-'));
  copyFileSync('/usr/bin/rg', join(staging, 'rg'));
  const r = spawnSync('tar', ['-czf', tarball, '-C', staging, 'rg'], { stdio: 'inherit' });
  rmSync(staging, { recursive: true, force: true });
  if (r.status !== 0) throw new Error('could not create the ripgrep cache tarball');
}

/** Installs code-server into .cache/code-server unless that exact version is already there. */
export function ensureCodeServer() {
  const pkgFile = join(cacheDir, 'node_modules', 'code-server', 'package.json');
  if (existsSync(binPath) && existsSync(pkgFile)) {
    const r = spawnSync(process.execPath, ['-p', `require(${JSON.stringify(pkgFile)}).version`], { encoding: 'utf8' });
    if (r.stdout.trim() === CODE_SERVER_VERSION) return binPath;
  }
  const t0 = Date.now();
  log(`installing code-server@${CODE_SERVER_VERSION} into ${cacheDir} (about a minute)`);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(join(cacheDir, 'package.json'), JSON.stringify({ name: 'mlloop-code-server', private: true }, null, 2));
  seedRipgrepCache();
  const r = spawnSync(
    'npm',
    [
      'install',
      `code-server@${CODE_SERVER_VERSION}`,
      '--foreground-scripts',
      '--unsafe-perm',
      '--no-audit',
      '--no-fund',
    ],
    {
      cwd: cacheDir,
      // node-pty's install runs `npx node-gyp`, which would otherwise ask before installing.
      env: { ...process.env, npm_config_yes: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (r.status !== 0 || !existsSync(binPath)) {
    console.error((r.stdout ?? '').slice(-4000), (r.stderr ?? '').slice(-4000));
    throw new Error(`npm install code-server@${CODE_SERVER_VERSION} failed (exit ${r.status})`);
  }
  log(`installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return binPath;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs} ms`);
}

/**
 * Starts code-server on `folder` with fresh user-data and extension dirs.
 * Returns { url, port, workbenchUrl(opts), stop(), dirs } — stop() ends its whole process group.
 * workspaceTrust: keep VS Code's Workspace Trust on (no --disable-workspace-trust): the folder opens in Restricted Mode
 * until someone trusts it.
 * @param {{folder: string, port?: number, extensionsDir?: string, settings?: object, log?: string, workspaceTrust?: boolean}} opts
 */
export async function startCodeServer(opts) {
  const bin = ensureCodeServer();
  const port = opts.port ?? (await freePort());
  const runDir = mkdtempSync(join(tmpdir(), 'mlloop-cs-'));
  const userDataDir = join(runDir, 'user-data');
  const extensionsDir = opts.extensionsDir ?? join(runDir, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'extensions.ignoreRecommendations': true,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        // The samples live inside this repository: no "open the parent repository?" prompt.
        'git.openRepositoryInParentFolders': 'never',
        ...(opts.settings ?? {}),
      },
      null,
      2,
    ),
  );
  // Our own config file: without --config code-server writes one into the home folder.
  const configFile = join(runDir, 'config.yaml');
  writeFileSync(configFile, 'auth: none\ncert: false\n');
  const args = [
    bin,
    '--config',
    configFile,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    opts.folder,
  ];
  const child = spawn('setsid', [process.execPath, ...args], {
    cwd: root,
    stdio: opts.log === 'inherit' ? 'inherit' : 'ignore',
    detached: false,
  });
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // setsid makes the child the leader of a new process group whose id is its pid; killing the
    // group also ends code-server's file watcher and extension hosts.
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && groupAlive(child.pid)) await new Promise((r) => setTimeout(r, 100));
    if (groupAlive(child.pid)) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(runDir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(url, child, 30000);
  } catch (e) {
    await stop();
    throw e;
  }
  /** The workbench URL; extensionDevelopmentPath/TestsPath go in the payload (the CLI rejects them). */
  const workbenchUrl = ({ folder = opts.folder, devPath, testsPath } = {}) => {
    const payload = [['skipWelcome', 'true']];
    if (devPath) payload.push(['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${devPath}`]);
    if (testsPath) payload.push(['extensionTestsPath', `vscode-remote://127.0.0.1:${port}${testsPath}`]);
    return `${url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  };
  return { url, port, pid: child.pid, userDataDir, extensionsDir, workbenchUrl, stop };
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Installs a .vsix into an extensions dir with code-server's CLI. */
export function installVsix(vsix, extensionsDir) {
  const bin = ensureCodeServer();
  const r = spawnSync(process.execPath, [bin, '--extensions-dir', extensionsDir, '--install-extension', vsix], {
    encoding: 'utf8',
    timeout: 120000,
  });
  if (r.status !== 0) throw new Error(`--install-extension failed: ${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === 'install') {
  ensureCodeServer();
  log(`ready: ${binPath}`);
}
