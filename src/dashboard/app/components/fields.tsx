/**
 * Form fields with their label, hint and error wired for assistive technology: the input is described by its
 * hint and its error, and marked invalid while an error stands beside it.
 */
import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';
import type { ApiErrorDetail } from '../api-types.js';
import { fieldId } from '../settings-form.js';

/** The API's field errors by parameter name (`sms.twilio.account_sid`). */
export type FieldErrors = Map<string, ApiErrorDetail>;

export function fieldErrorsOf(errors: ApiErrorDetail[]): FieldErrors {
  const byParam: FieldErrors = new Map();
  for (const error of errors) {
    const param = error.meta?.param_name;
    if (param && !byParam.has(param)) byParam.set(param, error);
  }
  return byParam;
}

/** `aria-describedby` and `aria-invalid` for the input of `param`. */
export function describedBy(param: string, hasHint: boolean, error: ApiErrorDetail | undefined) {
  const id = fieldId(param);
  const ids = [hasHint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ');
  return { id, 'aria-describedby': ids || undefined, 'aria-invalid': error ? ('true' as const) : undefined };
}

export function FieldError({ param, error }: { param: string; error: ApiErrorDetail | undefined }) {
  if (!error) return null;
  return (
    <p class="field-error" id={`${fieldId(param)}-error`}>
      <span class="visually-hidden">Error: </span>
      {error.long_message}
    </p>
  );
}

export function Hint({ param, children }: { param: string; children: ComponentChildren }) {
  return (
    <p class="hint" id={`${fieldId(param)}-hint`}>
      {children}
    </p>
  );
}

interface TextFieldProps {
  /** The API parameter this field sets; its errors are shown here. */
  param: string;
  label: string;
  hint?: ComponentChildren;
  value: string;
  onInput(value: string): void;
  errors: FieldErrors;
  /** `textarea`: several lines (a template body). */
  type?: 'text' | 'tel' | 'url' | 'datetime-local' | 'textarea';
  placeholder?: string;
  /** Monospace, no spell-checking or auto-capitalisation: ids, SIDs, keys. */
  code?: boolean;
  /** Receives the input (or textarea), for pages that work on the caret. */
  inputRef?: { current: HTMLInputElement | HTMLTextAreaElement | null };
}

export function TextField({ param, label, hint, value, onInput, errors, type = 'text', placeholder, code, inputRef }: TextFieldProps) {
  const error = errors.get(param);
  const attributes = describedBy(param, hint !== undefined, error);
  const shared = {
    ...attributes,
    name: param,
    value,
    placeholder,
    class: code ? 'input code' : 'input',
    spellcheck: code ? false : undefined,
    autocapitalize: code ? ('off' as const) : undefined,
    autocomplete: 'off',
    onInput: (event: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) => onInput(event.currentTarget.value),
    ref: (element: HTMLInputElement | HTMLTextAreaElement | null) => {
      if (inputRef) inputRef.current = element;
    },
  };
  return (
    <div class={`field${error ? ' field-invalid' : ''}`}>
      <label for={attributes.id}>{label}</label>
      {hint !== undefined && <Hint param={param}>{hint}</Hint>}
      <FieldError param={param} error={error} />
      {/* One element per type: Preact's input typings depend on the literal type. */}
      {type === 'textarea' ? (
        <textarea rows={5} {...shared} />
      ) : type === 'datetime-local' ? (
        <input type="datetime-local" step={1} {...shared} />
      ) : type === 'tel' ? (
        <input type="tel" {...shared} />
      ) : type === 'url' ? (
        <input type="url" {...shared} />
      ) : (
        <input type="text" {...shared} />
      )}
    </div>
  );
}

interface SelectFieldProps<T extends string> {
  param: string;
  label: string;
  options: { value: T; label: string }[];
  value: T;
  onChange(value: T): void;
  errors: FieldErrors;
}

export function SelectField<T extends string>({ param, label, options, value, onChange, errors }: SelectFieldProps<T>) {
  const error = errors.get(param);
  const attributes = describedBy(param, false, error);
  return (
    <div class={`field${error ? ' field-invalid' : ''}`}>
      <label for={attributes.id}>{label}</label>
      <FieldError param={param} error={error} />
      {/* The options are the only values there can be. */}
      <select {...attributes} name={param} class="input" value={value} onChange={(event) => onChange(event.currentTarget.value as T)}>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** One choice of a radio group (the group's `fieldset` and `legend` are the caller's). */
export function RadioOption({
  name,
  id,
  label,
  hint,
  checked,
  onChange,
}: {
  name: string;
  id: string;
  label: string;
  hint?: ComponentChildren;
  checked: boolean;
  onChange(): void;
}) {
  return (
    <div class="radio">
      <input
        type="radio"
        name={name}
        id={id}
        checked={checked}
        onChange={onChange}
        aria-describedby={hint !== undefined ? `${id}-hint` : undefined}
      />
      <label for={id}>{label}</label>
      {hint !== undefined && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

interface CheckboxFieldProps {
  param: string;
  label: string;
  hint?: ComponentChildren;
  checked: boolean;
  onChange(checked: boolean): void;
  errors: FieldErrors;
}

export function CheckboxField({ param, label, hint, checked, onChange, errors }: CheckboxFieldProps) {
  const error = errors.get(param);
  return (
    <div class={`checkbox${error ? ' field-invalid' : ''}`}>
      <input
        type="checkbox"
        name={param}
        {...describedBy(param, hint !== undefined, error)}
        checked={checked}
        onChange={(event) => onChange(event.currentTarget.checked)}
      />
      <label for={fieldId(param)}>{label}</label>
      {hint !== undefined && <Hint param={param}>{hint}</Hint>}
      <FieldError param={param} error={error} />
    </div>
  );
}

/**
 * Every error of a rejected save, at the top of the form, each linking to its field when the field is on the page.
 * Focused when it appears, so a keyboard or screen-reader user lands on it.
 */
export function ErrorSummary({
  title = 'The settings were not saved',
  errors,
  visibleParams,
  summaryRef,
}: {
  title?: string;
  errors: ApiErrorDetail[];
  visibleParams: ReadonlySet<string>;
  summaryRef: { current: HTMLDivElement | null };
}) {
  if (errors.length === 0) return null;
  return (
    <div class="error-summary" role="alert" tabindex={-1} ref={summaryRef} aria-labelledby="error-summary-title">
      <h2 id="error-summary-title">{title}</h2>
      <ul>
        {errors.map((error) => {
          const param = error.meta?.param_name;
          return (
            <li key={`${error.code}:${param ?? ''}`}>
              {param && visibleParams.has(param) ? <a href={`#${fieldId(param)}`}>{error.long_message}</a> : error.long_message}{' '}
              <code>{error.code}</code>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/**
 * While the save bar sticks to the bottom of the screen, its height is the page's `--save-bar-height`, so that what
 * the browser scrolls into view (a control reached by Tab) stops above it (styles.css: `scroll-padding-bottom`).
 */
function useStickyHeight(bar: { current: HTMLDivElement | null }, dirty: boolean): void {
  useLayoutEffect(() => {
    const element = bar.current;
    if (!element) return;
    const root = document.documentElement;
    const measure = () => {
      if (getComputedStyle(element).position === 'sticky') root.style.setProperty('--save-bar-height', `${element.offsetHeight}px`);
      else root.style.removeProperty('--save-bar-height');
    };
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    measure();
    return () => {
      observer.disconnect();
      root.style.removeProperty('--save-bar-height');
    };
  }, [dirty]);
}

/**
 * The bar under a settings form: where the form stands (`notice`, else unsaved changes, else `idle`), Discard and
 * Save, and any other action of the form before them. It sticks to the bottom of the screen (on a phone, only while
 * there is something to save).
 */
export function SaveBar({
  notice,
  dirty,
  saving,
  saveLabel,
  onDiscard,
  idle = 'All changes saved.',
  children,
}: {
  notice: string | null;
  dirty: boolean;
  saving: boolean;
  saveLabel: string;
  onDiscard(): void;
  idle?: string;
  children?: ComponentChildren;
}) {
  const bar = useRef<HTMLDivElement>(null);
  useStickyHeight(bar, dirty);
  return (
    <div class={`save-bar${dirty ? ' save-bar-dirty' : ''}`} ref={bar}>
      <p class="save-state" role="status" aria-live="polite">
        {notice ?? (dirty ? 'You have unsaved changes.' : idle)}
      </p>
      <div class="save-actions">
        {children}
        <button type="button" class="button button-secondary" onClick={onDiscard} disabled={saving || !dirty}>
          Discard changes
        </button>
        <button type="submit" class="button button-primary" disabled={saving} aria-disabled={saving}>
          {saving ? 'Saving…' : saveLabel}
        </button>
      </div>
    </div>
  );
}
