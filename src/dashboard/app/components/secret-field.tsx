/**
 * A write-only credential: shown only as "Set" / "Not set", with Replace and Clear. The value typed to replace it
 * stays in the (uncontrolled) input until the form reads it when saving; it is never put into component state,
 * and the input disappears once the save succeeds. Password managers are kept away from it (see the input).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { FieldError, Hint, describedBy, type FieldErrors } from './fields.js';
import { inSentence } from '../form-errors.js';
import type { SecretField as SecretFieldName, SecretIntent } from '../settings-form.js';

interface SecretFieldProps {
  param: SecretFieldName;
  label: string;
  hint: ComponentChildren;
  isSet: boolean;
  intent: SecretIntent;
  onIntent(intent: SecretIntent): void;
  errors: FieldErrors;
  /** Receives the input while it is on the page (null when it goes). */
  inputRef(input: HTMLInputElement | null): void;
  /** Something was typed or deleted in the input (read it from the input, not from here). */
  onTyping(): void;
}

export function SecretField({ param, label, hint, isSet, intent, onIntent, errors, inputRef, onTyping }: SecretFieldProps) {
  const error = errors.get(param);
  const attributes = describedBy(param, true, error);
  const editing = !isSet || intent === 'replace';
  // Where focus goes after Replace / Cancel / Clear / Undo, so the keyboard user is not dropped to the page top.
  const focusAfterChange = useRef<'input' | 'replace' | 'undo' | null>(null);
  const replaceButton = useRef<HTMLButtonElement>(null);
  const undoButton = useRef<HTMLButtonElement>(null);
  const input = useRef<HTMLInputElement | null>(null);

  useEffect(() => {
    const target = focusAfterChange.current;
    focusAfterChange.current = null;
    if (target === 'input') input.current?.focus();
    else if (target === 'replace') replaceButton.current?.focus();
    else if (target === 'undo') undoButton.current?.focus();
  }, [intent]);

  const change = (next: SecretIntent, focus: 'input' | 'replace' | 'undo') => {
    focusAfterChange.current = focus;
    onIntent(next);
  };
  const fieldName = <span class="visually-hidden"> {inSentence(label)}</span>;

  return (
    <div class={`field secret-field${error ? ' field-invalid' : ''}`} role="group" aria-labelledby={`${attributes.id}-name`}>
      <div class="secret-head">
        <span class="label" id={`${attributes.id}-name`}>
          {label}
        </span>
        <span class={`badge ${isSet ? 'badge-set' : 'badge-unset'}`} data-secret-state={isSet ? 'set' : 'not set'}>
          {isSet ? 'Set' : 'Not set'}
        </span>
      </div>
      <Hint param={param}>{hint}</Hint>
      <FieldError param={param} error={error} />
      {intent === 'clear' ? (
        <div class="secret-actions">
          <p class="pending">Will be cleared when you save.</p>
          <button type="button" class="button button-secondary" ref={undoButton} onClick={() => change('keep', 'replace')}>
            Undo clear{fieldName}
          </button>
        </div>
      ) : editing ? (
        <div class="secret-input">
          <label for={attributes.id}>{isSet ? `New ${inSentence(label)}` : label}</label>
          <div class="input-row">
            <input
              {...attributes}
              ref={(element) => {
                input.current = element;
                inputRef(element);
              }}
              // Not a password field: beside the other settings it reads as a sign-in form to password managers, which
              // then offer to save "AC…/token" for the dashboard. A text field shown as dots, marked for the managers
              // that look at text fields too (1Password, LastPass, Bitwarden, Dashlane) to leave it alone.
              type="text"
              name={param}
              class="input code input-masked"
              autocomplete="off"
              data-1p-ignore=""
              data-lpignore="true"
              data-bwignore=""
              data-form-type="other"
              spellcheck={false}
              autocapitalize="off"
              onInput={onTyping}
            />
            {isSet && (
              <button type="button" class="button button-secondary" onClick={() => change('keep', 'replace')}>
                Cancel{fieldName}
              </button>
            )}
          </div>
        </div>
      ) : (
        <div class="secret-actions">
          <button type="button" class="button button-secondary" ref={replaceButton} onClick={() => change('replace', 'input')}>
            Replace{fieldName}
          </button>
          <button type="button" class="button button-secondary" onClick={() => change('clear', 'undo')}>
            Clear{fieldName}
          </button>
        </div>
      )}
    </div>
  );
}
