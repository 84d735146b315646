/** Timing hooks shared by the pages: a value that settles after typing stops, and polling while the tab is seen. */
import { useEffect, useRef, useState } from 'preact/hooks';

/** `value`, once it has stayed the same for `delayMs` (the live preview waits for a pause in typing). */
export function useSettled<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), delayMs);
    return () => window.clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

export function pageIsVisible(): boolean {
  return document.visibilityState === 'visible';
}

/**
 * Calls `poll` every `intervalMs` while `active` and the tab is visible: a hidden tab costs the server nothing, and
 * coming back refreshes at once. One call at a time: the next waits for the previous to settle. `poll` handles its
 * own errors (a rejection is a bug, and surfaces as one).
 */
export function usePolling(poll: () => Promise<void>, intervalMs: number, active: boolean): void {
  const latest = useRef(poll);
  latest.current = poll;
  useEffect(() => {
    if (!active) return;
    let timer: number | undefined;
    let running = false;
    let stopped = false;
    const schedule = () => {
      if (!stopped && pageIsVisible()) timer = window.setTimeout(tick, intervalMs);
    };
    const tick = async () => {
      timer = undefined;
      running = true;
      try {
        await latest.current();
      } finally {
        running = false;
        schedule();
      }
    };
    const onVisibilityChange = () => {
      if (!pageIsVisible()) {
        window.clearTimeout(timer);
        timer = undefined;
      } else if (timer === undefined && !running) {
        void tick();
      }
    };
    document.addEventListener('visibilitychange', onVisibilityChange);
    schedule();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibilityChange);
    };
  }, [active, intervalMs]);
}
