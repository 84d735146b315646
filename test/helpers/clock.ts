import type { Clock } from '../../src/clock.js';

/** A clock tests move by hand. `now` is a bound function, so it can be handed on alone (`now: clock.now`). */
export class ManualClock implements Clock {
  constructor(public at = Date.UTC(2026, 0, 1)) {}
  now = (): number => this.at;
  advance(ms: number): void {
    this.at += ms;
  }
}
