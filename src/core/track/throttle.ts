// At most one call per interval, the last request never lost (a trailing call carries it): the
// Training panel posts its snapshot through this while progress streams in.

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class Throttle {
  private last = -Infinity;
  private timer: unknown;

  constructor(
    private readonly intervalMs: number,
    private readonly fn: () => void,
    private readonly clock: Clock = realClock,
  ) {}

  /** Calls now if the interval has passed (or `immediate`), else once when it has. */
  request(immediate = false): void {
    const wait = immediate ? 0 : this.last + this.intervalMs - this.clock.now();
    if (wait <= 0) {
      this.cancel();
      this.fire();
    } else if (this.timer === undefined) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.fire();
      }, wait);
    }
  }

  cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.last = this.clock.now();
    this.fn();
  }
}
