/**
 * Hooks shared by the pages: a value that settles after typing stops, polling while the tab is seen, a
 * cursor-paginated list that can refresh itself, and an SMS message followed until it settles.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { asApiError, type ApiError } from './api.js';
import type { ApiErrorDetail, Page, SmsMessageDetail } from './api-types.js';
import { isUnderWay } from './components/sms-status.js';
import { useSession } from './session.js';

/** A message still moving is fetched again this often while the tab is visible. */
const MESSAGE_REFRESH_MS = 1000;

/** The most a BAPI list answers in one page. */
const MAX_PAGE = 500;

/**
 * A form's draft of `value` (filters from the address): it starts as `value` and is reset to it when `key` changes,
 * but not on mounting, so that nothing typed before the first effects ran is lost.
 */
export function useDraft<T>(value: T, key: string): [T, (draft: T) => void] {
  const [draft, setDraft] = useState(value);
  const shown = useRef(key);
  useEffect(() => {
    if (shown.current === key) return;
    shown.current = key;
    setDraft(value);
  }, [key]);
  return [draft, setDraft];
}

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

export interface Loaded<T> {
  /** null until it has come. */
  value: T | null;
  /** Replace it (after a change the API answered with the new value). */
  setValue(value: T): void;
  error: ApiError | null;
  reload(): void;
}

/** One thing from the BAPI, loaded when the component mounts and again when `key` changes. */
export function useLoaded<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    setError(null);
    load().then(
      (loaded) => current && setValue(loaded),
      (caught: unknown) => current && setError(asApiError(caught)),
    );
    return () => {
      current = false;
    };
  }, [key, attempt]);
  return { value, setValue, error, reload: () => setAttempt((n) => n + 1) };
}

export interface PagedList<T> {
  /** Newest first; null until the first page has come. */
  items: T[] | null;
  error: ApiError | null;
  hasMore: boolean;
  loadingMore: boolean;
  /** The next page, after the last item shown; answers how many came. */
  loadOlder(): Promise<number>;
  /** From scratch, as if the list had just been opened. */
  reload(): void;
  /** Fetch what is shown again now (new items at the top), keeping it on screen meanwhile. */
  refresh(): Promise<void>;
  /** Put a changed item in place (after an action on it), without waiting for the next refresh. */
  replace(item: T): void;
}

/** One page of a BAPI list: `limit` items after `cursor` (the first page without one). */
export type PageFetcher<T> = (cursor: string | undefined, limit: number) => Promise<Page<T>>;

/**
 * A cursor-paginated BAPI list, newest first, loaded again when `key` (the filters) changes. With `refreshMs` it
 * refreshes while the tab is visible: everything shown is fetched again in one call (up to the API's 500), so new
 * items appear at the top and changed ones in place, and "load older" pages stay loaded.
 */
export function usePagedList<T extends { id: string }>(
  fetchPage: PageFetcher<T>,
  key: string,
  options: { pageSize: number; refreshMs?: number },
): PagedList<T> {
  const [items, setItems] = useState<T[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [attempt, setAttempt] = useState(0);
  // A new list (other filters, reload): any answer asked for before it is stale.
  const resets = useRef(0);
  // Any change to the list (a reset, older items, an item replaced): a refresh asked for before it is stale.
  const changes = useRef(0);
  const fetcher = useRef(fetchPage);
  fetcher.current = fetchPage;

  useEffect(() => {
    const asked = ++resets.current;
    changes.current++;
    setItems(null);
    setError(null);
    fetcher.current(undefined, options.pageSize).then(
      (page) => {
        if (asked !== resets.current) return;
        setItems(page.data);
        setNextCursor(page.next_cursor);
      },
      (caught: unknown) => asked === resets.current && setError(asApiError(caught)),
    );
  }, [key, attempt]);

  const refresh = async () => {
    if (!items) return;
    const asked = changes.current;
    try {
      const page = await fetcher.current(undefined, Math.min(MAX_PAGE, Math.max(options.pageSize, items.length)));
      if (asked !== changes.current) return;
      setItems(page.data);
      setNextCursor(page.next_cursor);
      setError(null);
    } catch (caught) {
      // The list stays as it was; the error says the refresh failed, and the next one may succeed.
      if (asked === changes.current) setError(asApiError(caught));
    }
  };
  usePolling(refresh, options.refreshMs ?? 0, options.refreshMs !== undefined && items !== null);

  const loadOlder = async () => {
    if (!items || !nextCursor) return 0;
    const asked = resets.current;
    changes.current++;
    setLoadingMore(true);
    try {
      const page = await fetcher.current(nextCursor, options.pageSize);
      if (asked !== resets.current) return 0;
      changes.current++;
      setItems((list) => [...(list ?? []), ...page.data]);
      setNextCursor(page.next_cursor);
      return page.data.length;
    } catch (caught) {
      setError(asApiError(caught));
      return 0;
    } finally {
      setLoadingMore(false);
    }
  };

  return {
    items,
    error,
    hasMore: nextCursor !== null,
    loadingMore,
    loadOlder,
    reload: () => setAttempt((n) => n + 1),
    refresh,
    replace: (item) => {
      changes.current++;
      setItems((list) => (list === null ? null : list.map((old) => (old.id === item.id ? item : old))));
    },
  };
}

/** One message: fetched, and fetched again while it is still moving (and the tab is visible). */
export function useSmsMessage(
  id: string,
  initial: SmsMessageDetail | null = null,
): { message: SmsMessageDetail | null; error: ApiError | null; reload(): void } {
  const { api } = useSession();
  const [message, setMessage] = useState<SmsMessageDetail | null>(initial);
  const [error, setError] = useState<ApiError | null>(null);
  const fetchMessage = async () => {
    try {
      setMessage(await api.get<SmsMessageDetail>(`/v1/sms_messages/${encodeURIComponent(id)}`));
      setError(null);
    } catch (caught) {
      setError(asApiError(caught));
    }
  };
  useEffect(() => {
    if (!initial) void fetchMessage();
  }, [id]);
  usePolling(fetchMessage, MESSAGE_REFRESH_MS, message !== null && isUnderWay(message.status));
  return { message, error, reload: () => void fetchMessage() };
}

/** The error summary's element, focused whenever a refusal's errors arrive (for keyboard and screen-reader users). */
export function useErrorFocus(errors: readonly ApiErrorDetail[]): { current: HTMLDivElement | null } {
  const summaryRef = useRef<HTMLDivElement | null>(null);
  useLayoutEffect(() => {
    if (errors.length > 0) summaryRef.current?.focus();
  }, [errors]);
  return summaryRef;
}

/**
 * A settings form's saving: the API's refusal (its field errors, kept until the next save or reset), whether a
 * save is under way, and the notice that says how it went.
 */
export function useSave() {
  const [errors, setErrors] = useState<ApiErrorDetail[]>([]);
  const [saving, setSaving] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const summaryRef = useErrorFocus(errors);
  /** Runs `work`, which saves and returns the notice to show; a refusal keeps its errors for the fields. */
  const run = async (work: () => Promise<string>) => {
    setSaving(true);
    setNotice(null);
    try {
      const done = await work();
      setErrors([]);
      setNotice(done);
    } catch (error) {
      setErrors(asApiError(error).errors);
    } finally {
      setSaving(false);
    }
  };
  /** No errors, and this notice (none: the bar says where the draft stands). */
  const reset = (message: string | null = null) => {
    setErrors([]);
    setNotice(message);
  };
  return { errors, setErrors, saving, notice, setNotice, summaryRef, run, reset };
}
