// A real one-node SLURM cluster on localhost for tests (Debian's slurm-wlm + munge, as root):
// munged with a key of its own, slurmctld and slurmd from a slurm.conf generated in a temp folder
// (2 CPUs, one partition `debug`). The client commands find it through SLURM_CONF, which start()
// sets in this process's environment (children inherit it). stop() ends the daemons it started by
// their pid files; a munged that was already running is left alone.
//   node test/runners/slurm-cluster.mjs start|stop   (prints the state folder / stops the one in $MLLOOP_SLURM_STATE)
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

const MUNGE_KEY = '/etc/munge/munge.key';
const SLURM_CPUS = 2;

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/** Whether the SLURM daemons and munge are installed (`.ci/run` installs them; a developer may not have them). */
export function slurmInstalled() {
  return ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/munged', '/usr/bin/sbatch'].every((f) => existsSync(f));
}

function userIds(name) {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user ${name} (is munge installed?)`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function mungeWorks() {
  const r = spawnSync('sh', ['-c', 'munge -n | unmunge'], { stdio: 'ignore' });
  return r.status === 0;
}

/** munged running with a key (created on a fresh machine). */
function startMunge() {
  if (mungeWorks()) return false;
  const munge = userIds('munge');
  for (const dir of ['/etc/munge', '/run/munge', '/var/log/munge', '/var/lib/munge']) {
    mkdirSync(dir, { recursive: true });
    chownSync(dir, munge.uid, munge.gid);
  }
  chmodSync('/etc/munge', 0o700);
  if (!existsSync(MUNGE_KEY)) writeFileSync(MUNGE_KEY, randomBytes(1024), { mode: 0o400 });
  chownSync(MUNGE_KEY, munge.uid, munge.gid);
  chmodSync(MUNGE_KEY, 0o400);
  sh('su', ['-s', '/bin/sh', 'munge', '-c', '/usr/sbin/munged']);
  for (let i = 0; i < 50 && !mungeWorks(); i++) sh('sleep', ['0.1']);
  if (!mungeWorks())
    throw new Error('munged started but `munge -n | unmunge` still fails (see /var/log/munge/munged.log)');
  return true;
}

function writeConf(state, host) {
  const realMemory = Math.max(512, Math.floor(totalmem() / 1024 / 1024 / 2));
  const conf = [
    'ClusterName=mlloop-test',
    `SlurmctldHost=${host}(127.0.0.1)`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `StateSaveLocation=${state}/ctld`,
    `SlurmdSpoolDir=${state}/d`,
    `SlurmctldPidFile=${state}/slurmctld.pid`,
    `SlurmdPidFile=${state}/slurmd.pid`,
    `SlurmctldLogFile=${state}/slurmctld.log`,
    `SlurmdLogFile=${state}/slurmd.log`,
    'SlurmctldPort=16817',
    'SlurmdPort=16818',
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'ReturnToService=2',
    'JobAcctGatherType=jobacct_gather/none',
    // No slurmdbd here: sacct says "accounting storage is disabled" and ML Loop reads final states
    // from `scontrol show job`, which remembers a finished job for MinJobAge seconds.
    'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/filetxt',
    `JobCompLoc=${state}/jobcomp.txt`,
    'MinJobAge=3600',
    // Time limits are enforced within seconds, not the default half minute.
    'InactiveLimit=0',
    'KillWait=5',
    'OverTimeLimit=0',
    'MessageTimeout=20',
    'SchedulerParameters=sched_interval=2',
    `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${SLURM_CPUS} RealMemory=${realMemory} State=UNKNOWN`,
    `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n');
  const file = join(state, 'slurm.conf');
  writeFileSync(file, conf);
  return file;
}

function pidOf(file) {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** Starts the cluster; resolves with { state, conf, host, stop } once its node is idle. */
export async function startSlurmCluster() {
  if (!slurmInstalled()) throw new Error('SLURM is not installed: apt-get install -y slurm-wlm munge (see .ci/run)');
  const startedMunge = startMunge();
  const state = mkdtempSync(join(tmpdir(), 'mlloop-slurm-'));
  chmodSync(state, 0o755);
  for (const d of ['ctld', 'd']) mkdirSync(join(state, d));
  // The node's name must resolve; the short host name is what slurmd calls itself.
  const host = hostname().split('.')[0];
  const conf = writeConf(state, host);
  process.env.SLURM_CONF = conf;
  const env = { ...process.env, SLURM_CONF: conf };
  sh('/usr/sbin/slurmctld', ['-f', conf], { env });
  sh('/usr/sbin/slurmd', ['-f', conf, '-N', host], { env });
  const stop = () => stopSlurmCluster(state, startedMunge);
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    last = spawnSync('sinfo', ['-h', '-o', '%T'], { env, encoding: 'utf8' }).stdout?.trim() ?? '';
    if (last === 'idle') return { state, conf, host, stop };
    if (/unknown|down|drain/.test(last))
      spawnSync('scontrol', ['update', `nodename=${host}`, 'state=resume'], { env, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
  }
  const logs = ['slurmctld.log', 'slurmd.log']
    .map(
      (f) =>
        `${f}:\n${existsSync(join(state, f)) ? readFileSync(join(state, f), 'utf8').split('\n').slice(-15).join('\n') : '(none)'}`,
    )
    .join('\n');
  stop();
  throw new Error(`the local SLURM node did not become idle within 60 s (sinfo: ${last || 'nothing'})\n${logs}`);
}

/** Ends the daemons of a cluster started by startSlurmCluster (by pid file) and removes its folder. */
export function stopSlurmCluster(state, alsoMunge = false) {
  for (const f of ['slurmd.pid', 'slurmctld.pid']) {
    const pid = pidOf(join(state, f));
    if (!pid) continue;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  // slurmd leaves job steps' stepd processes only while jobs run; the tests cancel theirs.
  for (let i = 0; i < 50; i++) {
    const alive = ['slurmd.pid', 'slurmctld.pid']
      .map((f) => pidOf(join(state, f)))
      .filter((pid) => {
        if (!pid) return false;
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
    if (alive.length === 0) break;
    spawnSync('sleep', ['0.1']);
  }
  if (alsoMunge) {
    const pid = pidOf('/run/munge/munged.pid');
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
  rmSync(state, { recursive: true, force: true });
}

async function main(cmd) {
  if (cmd === 'start') {
    const c = await startSlurmCluster();
    console.log(`SLURM_CONF=${c.conf}`);
    console.log(`MLLOOP_SLURM_STATE=${c.state}`);
  } else if (cmd === 'stop') {
    const state = process.env.MLLOOP_SLURM_STATE;
    if (!state) throw new Error('MLLOOP_SLURM_STATE is not set');
    stopSlurmCluster(state);
  } else {
    throw new Error('usage: node test/runners/slurm-cluster.mjs start|stop');
  }
}

// No top-level await: the e2e specs load this module through tsx's CommonJS transform.
if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv[2]).catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
