/**
 * Sign-in with a secret key. The key is checked with one BAPI call; a refusal shows the API's reason and code.
 * The input is uncontrolled, so the key is read once, on submit, and not kept by this page.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { asApiError, createApi } from '../api.js';
import type { ApiErrorDetail } from '../api-types.js';

/** Plainer words for the refusals a person typing a key meets; anything else keeps the API's own message. */
const REASONS: Record<string, string> = {
  secret_key_invalid: 'This secret key is unknown or has been revoked.',
  authorization_header_malformed:
    'That is not a secret key. Keys start with sk_live_ or sk_test_, followed by 32 to 64 letters and digits.',
  authorization_header_missing: 'Enter your secret key.',
};

export function SignInPage({ notice, onSignedIn }: { notice: string | null; onSignedIn(key: string): void }) {
  const [error, setError] = useState<ApiErrorDetail | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Sign in · authn.sh dashboard';
  }, []);

  const submit = async (event: Event) => {
    event.preventDefault();
    const key = input.current?.value.trim() ?? '';
    setError(null);
    if (key === '') {
      setError({ code: 'authorization_header_missing', message: '', long_message: REASONS.authorization_header_missing! });
      input.current?.focus();
      return;
    }
    setBusy(true);
    try {
      await createApi(key).get('/v1/instance');
      if (input.current) input.current.value = '';
      onSignedIn(key);
    } catch (caught) {
      setError(asApiError(caught).errors[0] ?? null);
      setBusy(false);
      input.current?.focus();
    }
  };

  return (
    <main class="sign-in" id="main">
      <form class="sign-in-card" onSubmit={submit} autocomplete="off" noValidate>
        <p class="brand">
          authn.sh <span>dashboard</span>
        </p>
        <h1>Sign in</h1>
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <div class={`field${error ? ' field-invalid' : ''}`}>
          <label for="secret-key">Secret key</label>
          <p class="hint" id="secret-key-hint">
            A BAPI key, <code>sk_live_…</code> or <code>sk_test_…</code> (make one with <code>authn keys create</code>). It is kept in this
            browser tab only, until you sign out or close the tab.
          </p>
          {error && (
            <p class="field-error" id="secret-key-error" role="alert">
              {REASONS[error.code] ?? error.long_message} <code>{error.code}</code>
            </p>
          )}
          <input
            ref={input}
            id="secret-key"
            name="secret-key"
            type="password"
            class="input code"
            autocomplete="off"
            spellcheck={false}
            autocapitalize="off"
            aria-describedby={error ? 'secret-key-hint secret-key-error' : 'secret-key-hint'}
            aria-invalid={error ? 'true' : undefined}
            // biome-ignore lint/a11y/noAutofocus: the page's one field; signing in is all there is to do here
            autoFocus
          />
        </div>
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
