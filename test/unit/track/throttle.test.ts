import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Throttle, type Clock } from '../../../src/core/track/throttle';

/** A manual clock: timers run when time is advanced past them. */
function fakeClock() {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => (timers = timers.filter((t) => t.id !== id)),
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      now = due.at;
      timers = timers.filter((t) => t !== due);
      due.fn();
    }
    now = end;
  };
  return { clock, advance };
}

test('a fast run (1,000 progress events in 1 s) gives at most 5 snapshots, the last one after the last event', () => {
  const { clock, advance } = fakeClock();
  const calls: number[] = [];
  const t = new Throttle(250, () => calls.push(clock.now()), clock);
  for (let i = 0; i < 1000; i++) {
    t.request();
    advance(1);
  }
  advance(1000);
  assert.ok(calls.length <= 5 && calls.length >= 4, `calls at ${calls}`);
  for (let i = 1; i < calls.length; i++) assert.ok(calls[i] - calls[i - 1] >= 250, `calls at ${calls}`);
  assert.ok(calls.at(-1)! >= 999, 'the trailing call covers the last event');
});

test('an immediate request goes out at once and cancels the pending trailing call', () => {
  const { clock, advance } = fakeClock();
  let calls = 0;
  const t = new Throttle(250, () => calls++, clock);
  t.request();
  t.request();
  assert.equal(calls, 1);
  t.request(true);
  assert.equal(calls, 2);
  advance(1000);
  assert.equal(calls, 2);
});
