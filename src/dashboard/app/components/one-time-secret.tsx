/**
 * A secret the API shows once (a webhook signing secret): in a read-only box with Copy, until the operator says it
 * is stored. The page holds it only while this is on screen; dismissing it drops it for good. It takes the focus
 * when it appears, so nobody misses it.
 */
import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

interface OneTimeSecretProps {
  title: string;
  label: string;
  secret: string;
  children: ComponentChildren;
  onDismiss(): void;
}

export function OneTimeSecret({ title, label, secret, children, onDismiss }: OneTimeSecretProps) {
  const box = useRef<HTMLElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const [copyState, setCopyState] = useState<'idle' | 'copied' | 'select'>('idle');

  useLayoutEffect(() => box.current?.focus(), []);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopyState('copied');
    } catch {
      // No clipboard access (a page served over plain http from another host): select it for Ctrl+C instead.
      input.current?.focus();
      input.current?.select();
      setCopyState('select');
    }
  };

  return (
    <section class="one-time-secret" tabindex={-1} ref={box} aria-labelledby="one-time-secret-title" aria-describedby="one-time-secret-why">
      <h2 id="one-time-secret-title">{title}</h2>
      <p id="one-time-secret-why">{children}</p>
      <label for="one-time-secret-value">{label}</label>
      <div class="input-row">
        {/* A text area, so that the whole secret shows (wrapped) on a narrow screen. */}
        <textarea
          id="one-time-secret-value"
          ref={input}
          class="input code secret-value"
          rows={1}
          readOnly
          value={secret}
          spellcheck={false}
          autocomplete="off"
          onFocus={(event) => event.currentTarget.select()}
        />
        <button type="button" class="button button-secondary" onClick={copy}>
          Copy<span class="visually-hidden"> {label.toLowerCase()}</span>
        </button>
      </div>
      <p class="copy-state" role="status" aria-live="polite">
        {copyState === 'copied'
          ? 'Copied to the clipboard.'
          : copyState === 'select'
            ? 'Selected: press Ctrl+C (⌘C on a Mac) to copy it.'
            : ''}
      </p>
      <button type="button" class="button button-primary" onClick={onDismiss}>
        I have stored it, hide it
      </button>
    </section>
  );
}
