// A helper thread that takes jobs from the training thread through shared control words and Atomics
// rather than a message per job (a message costs more than many of the jobs): the GBDT's workspace
// and the CNN's engine each run half of a step on one. The first control words are this handshake's;
// a user's own job parameters follow from HELPER_FIRST_WORD.

import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

/** Incremented by the training thread per job (and once more to stop). */
export const HELPER_JOB = 0;
/** Set to the job's number by the helper when it has finished it. */
const DONE = 1;
const STOP = 2;
/** Set by the helper once it runs. */
const READY = 3;
/** Set by the helper when a job threw (it then exits, having sent the error to the `failures` port). */
const FAILED = 4;
/**
 * How long a thread polls a control word before it sleeps on it (Atomics.wait). Jobs of a tree's
 * growth follow each other within microseconds, and a sleeping thread's wake-up costs tens of
 * microseconds each way; OpenMP's threads (XGBoost's) spin likewise before they sleep.
 */
const SPIN_MS = 0.1;
/** The first control word free for a user's job parameters. */
export const HELPER_FIRST_WORD = 5;

/**
 * The helper's source: `setup` once (it sees `workerData` and `control`, the Int32Array of control
 * words), then `job` for each job posted, until stopped or a job throws.
 */
export function helperSource(setup: string, job: string): string {
  return `
const { workerData } = require('node:worker_threads');
const control = workerData.control;
${setup}
let job = 0;
Atomics.store(control, ${READY}, 1);
Atomics.notify(control, ${READY});
for (;;) {
  // Only a new job number is a job, not a wake-up: the notify of a job this thread already took
  // (and ran) without sleeping may come after it went back to sleep (see HelperThread.post).
  let next = Atomics.load(control, ${HELPER_JOB});
  for (const until = performance.now() + ${SPIN_MS}; next === job && performance.now() < until; )
    next = Atomics.load(control, ${HELPER_JOB});
  while (next === job) {
    Atomics.wait(control, ${HELPER_JOB}, job);
    next = Atomics.load(control, ${HELPER_JOB});
  }
  job = next;
  if (Atomics.load(control, ${STOP}) === 1) break;
  try {
${job}
  } catch (e) {
    workerData.failures.postMessage(String(e));
    Atomics.store(control, ${FAILED}, 1);
  }
  Atomics.store(control, ${DONE}, job);
  Atomics.notify(control, ${DONE});
  if (Atomics.load(control, ${FAILED}) === 1) break;
}
`;
}

export class HelperThread {
  /** Helper threads started and not yet exited, in this thread (for tests: none may outlive training). */
  static live = 0;

  private job = 0;

  private constructor(
    readonly control: Int32Array,
    private worker: Worker | null,
    /** Where the helper sends the error of a job that threw. */
    private readonly failures: MessagePort,
  ) {}

  /**
   * Starts the helper with `workerData` (plus `control`, `controlWords` shared words) and waits for
   * it to run. Blocking here is safe: the helper boots on its own thread. Undefined when it did not
   * start within `timeoutMs` (a runtime without worker threads, a failed spawn): work alone then
   * rather than wait forever later.
   */
  static start(
    source: string,
    workerData: Record<string, unknown>,
    controlWords: number,
    timeoutMs: number,
  ): HelperThread | undefined {
    const helper = HelperThread.spawn(source, workerData, controlWords);
    if (Atomics.wait(helper.control, READY, 0, timeoutMs) === 'timed-out' && !helper.ready) {
      helper.stop();
      return undefined;
    }
    return helper;
  }

  /**
   * Starts the helper without waiting for it (its thread boots meanwhile, tens of ms): post jobs
   * once `ready`, work alone until then. stop() it in any case.
   */
  static spawn(source: string, workerData: Record<string, unknown>, controlWords: number): HelperThread {
    const control = new Int32Array(new SharedArrayBuffer(4 * controlWords));
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(source, {
      eval: true,
      workerData: { ...workerData, control, failures: port2 },
      transferList: [port2],
    });
    HelperThread.live++;
    worker.once('exit', () => HelperThread.live--);
    worker.once('error', () => undefined);
    worker.unref();
    return new HelperThread(control, worker, port1);
  }

  /** Whether the helper runs and takes jobs (false again once stopped). */
  get ready(): boolean {
    return this.worker !== null && Atomics.load(this.control, READY) === 1;
  }

  /** Sets control words (a job's parameters): [word, value] pairs. */
  store(words: [number, number][]): void {
    for (const [word, value] of words) Atomics.store(this.control, word, value);
  }

  /** Hands the job described in the control words (and shared memory) to the helper; returns its number. */
  post(): number {
    const job = ++this.job;
    // What was written before is visible to the helper once it reads the new job number. The helper
    // may take the job without sleeping (between its last job and its wait), finish it and sleep
    // again before this notify: the notify then wakes it with no new job, which it must not rerun.
    Atomics.store(this.control, HELPER_JOB, job);
    Atomics.notify(this.control, HELPER_JOB);
    return job;
  }

  /** Waits for `job`; true when it failed (the helper has then exited: stop() it and work alone). */
  await(job: number): boolean {
    // Wait on the value just checked: re-reading it for the wait could miss the helper's notify.
    let done = Atomics.load(this.control, DONE);
    for (const until = performance.now() + SPIN_MS; done !== job && performance.now() < until;)
      done = Atomics.load(this.control, DONE);
    for (; done !== job; done = Atomics.load(this.control, DONE)) Atomics.wait(this.control, DONE, done);
    return Atomics.load(this.control, FAILED) === 1;
  }

  /** The error of the job that failed (sent before the helper marked it done), for a clear message. */
  failure(): string {
    const sent = receiveMessageOnPort(this.failures);
    return sent ? String(sent.message) : 'unknown error';
  }

  /** Ends the helper's thread. */
  stop(): void {
    Atomics.store(this.control, STOP, 1);
    Atomics.add(this.control, HELPER_JOB, 1);
    Atomics.notify(this.control, HELPER_JOB);
    void this.worker?.terminate();
    this.worker = null;
    this.failures.close();
  }
}

/** A kernel's work on chunks of rows in two slots of a shared memory: slot 0 this thread's, slot 1 the helper's. */
export interface ChunkSlots {
  /** Copies rows [start, start + rows) into the slot. */
  copyIn(slot: number, start: number, rows: number): void;
  /** Runs the kernel on the slot's rows on this thread. */
  run(slot: number, rows: number): void;
  /** Copies the slot's results of rows [start, start + rows) out. */
  copyOut(slot: number, start: number, rows: number): void;
}

/**
 * Processes rows [0, n) chunk by chunk, `helper` (when started) taking the first chunk of each pair:
 * its rows are copied in first (so it starts at once), its row count set in control word `rowsWord`
 * (its other parameters set by the caller), while this thread does the second. A failed helper job
 * is redone here and the rest done alone. The helper is stopped at the end.
 */
export function runChunkPairs(
  n: number,
  chunkRows: number,
  helper: HelperThread | undefined,
  rowsWord: number,
  slots: ChunkSlots,
): void {
  try {
    for (let start = 0; start < n;) {
      let helperJob = 0;
      const helperStart = start;
      const helperRows = helper && n - start > chunkRows ? chunkRows : 0;
      if (helperRows > 0) {
        slots.copyIn(1, start, helperRows);
        Atomics.store(helper!.control, rowsWord, helperRows);
        helperJob = helper!.post();
        start += helperRows;
      }
      const rows = Math.min(chunkRows, n - start);
      slots.copyIn(0, start, rows);
      slots.run(0, rows);
      slots.copyOut(0, start, rows);
      start += rows;
      if (helperJob) {
        if (helper!.await(helperJob)) {
          helper!.stop();
          helper = undefined;
          slots.run(1, helperRows);
        }
        slots.copyOut(1, helperStart, helperRows);
      }
    }
  } finally {
    helper?.stop();
  }
}
