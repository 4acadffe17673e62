// The one error a cancelled job rejects with, whatever ran it (a worker thread, a child process, a
// trainer's loop): callers tell a cancel from a failure with `instanceof CancelledError` (or, for
// an error that crossed a thread as plain data, its name 'CancelledError').

export class CancelledError extends Error {
  /** `job` names what was cancelled: "Training" → "Training was cancelled". */
  constructor(job = 'The job') {
    super(`${job} was cancelled`);
    this.name = 'CancelledError';
  }
}
