/**
 * A confirmation for an action that cannot be undone (revert a template, delete an endpoint, rotate a secret).
 * A modal `<dialog>`: the page behind is inert, Tab and Shift+Tab cycle inside the dialog, Escape cancels, the
 * focus starts on Cancel (the safe choice) and goes back to where it was when the dialog closes.
 */
import type { ComponentChildren } from 'preact';
import { useId, useLayoutEffect, useRef } from 'preact/hooks';
import type { ApiError } from '../api.js';

interface ConfirmDialogProps {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  /**
   * The action runs: its button says so and ignores clicks (it keeps the focus: a disabled button would drop it).
   * Cancel still closes the dialog; the action's outcome then shows on the page.
   */
  busy: boolean;
  /** Why the action failed, shown inside the dialog (the dialog stays open to retry or cancel). */
  error: ApiError | null;
  onConfirm(): void;
  onCancel(): void;
  /** Where the focus goes on closing when the control that opened the dialog is gone (it was deleted). */
  fallbackFocus?: () => HTMLElement | null;
}

const FOCUSABLE =
  'button:not([disabled]), a[href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Rendered only while open: mounting opens it, unmounting closes it. */
export function ConfirmDialog({ title, children, confirmLabel, busy, error, onConfirm, onCancel, fallbackFocus }: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const id = useId();
  // Kept current for the cleanup below, which runs once, on unmount.
  const fallback = useRef(fallbackFocus);
  fallback.current = fallbackFocus;

  // At once on mounting (not after the next paint), so that nothing typed meanwhile lands behind the dialog.
  useLayoutEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog.current?.showModal();
    cancel.current?.focus();
    return () => {
      dialog.current?.close();
      // Once the whole update is in the page: the opener may go in the same update (a deleted row, a spent button).
      queueMicrotask(() => (opener?.isConnected ? opener : fallback.current?.())?.focus());
    };
  }, []);

  const trapTab = (event: KeyboardEvent) => {
    if (event.key !== 'Tab' || !dialog.current) return;
    const focusable = [...dialog.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  return (
    <dialog
      ref={dialog}
      class="dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-body`}
      onKeyDown={trapTab}
      // Escape: the state decides whether the dialog is open, so the browser must not close it on its own.
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <h2 id={`${id}-title`}>{title}</h2>
      <div id={`${id}-body`}>{children}</div>
      {error && (
        <div class="dialog-error" role="alert">
          {error.errors.map((e) => (
            <p key={e.code + e.long_message}>
              {e.long_message} <code>{e.code}</code>
            </p>
          ))}
        </div>
      )}
      <div class="dialog-actions">
        <button type="button" class="button button-secondary" ref={cancel} onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="button button-danger" aria-disabled={busy} onClick={() => busy || onConfirm()}>
          {busy ? `${confirmLabel}…` : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
