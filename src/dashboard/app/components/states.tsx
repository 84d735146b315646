/** Loading, error and empty states, the same on every page. */
import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api.js';

export function Loading({ what }: { what: string }) {
  return (
    <p class="state state-loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      Loading {what}…
    </p>
  );
}

/** An error the page cannot go on without (the load failed), with the API's own words and code. */
export function ErrorPanel({ title, error, onRetry }: { title: string; error: ApiError; onRetry?: () => void }) {
  return (
    <div class="state state-error" role="alert">
      <h2>{title}</h2>
      <ul class="plain">
        {error.errors.map((e) => (
          <li key={e.code + e.long_message}>
            {e.long_message} <code>{e.code}</code>
          </li>
        ))}
      </ul>
      {onRetry && (
        <button type="button" class="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <div class="state state-empty">
      <h2>{title}</h2>
      {children}
    </div>
  );
}
