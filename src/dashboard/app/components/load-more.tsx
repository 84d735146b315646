/** "Load older …" under a paged list, or the list's end. */
import type { PagedList } from '../hooks.js';

interface LoadMoreProps<T> {
  list: PagedList<T>;
  label: string;
  /** Said when there is nothing older. */
  end?: string;
  /** After a page came: how many, and how many are shown now. */
  onLoaded?(count: number, shown: number): void;
}

export function LoadMore<T>({ list, label, end, onLoaded }: LoadMoreProps<T>) {
  if (!list.hasMore) return end ? <p class="end-of-list">{end}</p> : null;
  const load = async () => {
    if (list.loadingMore) return;
    const shownBefore = list.items?.length ?? 0;
    const count = await list.loadOlder();
    onLoaded?.(count, shownBefore + count);
  };
  return (
    <p class="pager">
      {/* aria-disabled, not disabled: the button keeps the focus while the page loads. */}
      <button type="button" class="button button-secondary" onClick={load} aria-disabled={list.loadingMore}>
        {list.loadingMore ? 'Loading…' : label}
      </button>
    </p>
  );
}
