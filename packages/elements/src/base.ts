/**
 * What every element shares: the SDK client (one per FAPI URL, so a sign-in and a profile on one page share the
 * session), the environment, the Shadow DOM with its theme, labelled fields whose errors sit beside them, the
 * `aria-live` status line, the resend countdown, the code's delivery line and the events for the host page.
 */
import {
  AuthnError,
  createAuthn,
  deliveryPending,
  type AuthnClient,
  type Delivery,
  type Environment,
  type Result,
} from '../../sdk/src/index.js';
import { callingCode, countryOf, switchCountry, toE164 } from './phone.js';
import { STYLES } from './styles.js';

const clients = new Map<string, AuthnClient>();
/** One environment request per client for the elements to render with. */
const environments = new WeakMap<AuthnClient, Promise<Environment | AuthnError>>();
/** One `load()` per client, beside it: the session a returning user already has (it fires `SIGNED_IN`). */
const restores = new WeakMap<AuthnClient, Promise<unknown>>();
/** The environment being read again for `refresh()`, per client. */
const rereads = new Map<AuthnClient, Promise<void>>();
const connected = new Set<AuthnElement>();

function environmentOf(client: AuthnClient): Promise<Environment | AuthnError> {
  let loading = environments.get(client);
  if (!loading) {
    loading = client.getEnvironment().then((result) => result.error ?? result.data);
    environments.set(client, loading);
  }
  return loading;
}

/** Resolves once the client knows whether a session is already active (a failure leaves it signed out). */
export function sessionRestored(client: AuthnClient): Promise<unknown> {
  let restoring = restores.get(client);
  if (!restoring) {
    restoring = client.session ? Promise.resolve() : client.load();
    restores.set(client, restoring);
  }
  return restoring;
}

let regionNames: Intl.DisplayNames | null | undefined;
/** The browser's country names. Their first use loads them (tens of ms), so it never happens before the first paint. */
function countryNames(): Intl.DisplayNames | null {
  regionNames ??=
    typeof Intl.DisplayNames === 'function'
      ? new Intl.DisplayNames([document.documentElement.lang || navigator.language || 'en'], { type: 'region' })
      : null;
  return regionNames;
}

/** Runs `task` once the page has painted and is idle (or after the next frame where idle callbacks are missing). */
function afterPaint(task: () => void): void {
  requestAnimationFrame(() =>
    typeof requestIdleCallback === 'function' ? requestIdleCallback(() => task(), { timeout: 500 }) : setTimeout(task, 0),
  );
}

/** An option's text: the country's name when the browser has it, else its code (`US (+1)`). */
function countryLabel(code: string, names: Intl.DisplayNames | null | undefined): string {
  return `${names?.of(code) ?? code} (+${callingCode(code)})`;
}

/** How often a code's delivery state is read again while its SMS is on its way. */
const DELIVERY_POLL_MS = 2000;

/** What went wrong, by reason class. */
const DELIVERY_FAILURE: Record<NonNullable<Delivery['reason']>, string> = {
  number_unreachable: 'The message could not be delivered',
  carrier_rejected: 'The carrier refused the message',
  try_again_later: 'The message could not be sent',
};

/** The words for a delivery state, at `now`: where the message is, or what went wrong and what to do. */
function deliveryText(delivery: Delivery | null, now: number): string {
  if (!delivery) return '';
  switch (delivery.status) {
    case 'queued':
      return 'Sending the message…';
    case 'sent':
      return 'The message is on its way.';
    case 'delivered':
      return 'The message was delivered to your phone.';
  }
  const failure = DELIVERY_FAILURE[delivery.reason ?? 'try_again_later'];
  const seconds = delivery.resend_after === null ? 0 : Math.ceil((delivery.resend_after - now) / 1000);
  const retry = seconds > 0 ? `try again in ${seconds} s` : 'try again';
  return delivery.next_step === 'use_another_number' ? `${failure} — ${retry} or use another number.` : `${failure} — ${retry}.`;
}

/** The line beside a code input that says where its SMS stands; `follow()` starts following it again (a new code). */
export interface DeliveryLine {
  element: HTMLElement;
  follow(): void;
}

type Attributes = Record<string, string | boolean | undefined>;

/** Creates an element: string attributes are set, `true` sets an empty one, `false`/undefined leave it out. */
/** A form that asks for the code an SMS carried: where it stands, a resend, a way out, the check. */
export interface CodeForm<T, R = unknown> {
  /** The code's delivery as the SDK last read it, and a fresh read. */
  delivery: () => Delivery | null;
  reload: () => Promise<unknown>;
  resendIn: () => number;
  resend: () => Promise<Result<R>>;
  /** After a resend the server took. */
  resent?: (value: R) => void;
  verify: (code: string) => Promise<Result<T>>;
  /** After a right code. */
  verified: (value: T) => void | Promise<void>;
  /** The button beside Verify and Resend: "Use another number", "Cancel". */
  leave: { label: string; class: string; action: () => void | Promise<void> };
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === true) element.setAttribute(name, '');
    else if (typeof value === 'string') element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

export interface Field {
  name: string;
  block: HTMLElement;
  input: HTMLInputElement;
  error: HTMLElement;
}

/** The param names the server gives errors for, and the field each is shown beside. */
const FIELD_OF_PARAM: Record<string, string> = {
  phone_number: 'phone_number',
  identifier: 'phone_number',
  code: 'code',
  password: 'password',
};

export abstract class AuthnElement extends HTMLElement {
  static observedAttributes = ['url'];

  protected readonly root: ShadowRoot;
  protected environment: Environment | null = null;
  private client: AuthnClient | null = null;
  private readonly content: HTMLElement;
  private readonly statusLine: HTMLElement;
  /** The field of each input, so an error finds the field shown now by its name. */
  private readonly fieldOf = new WeakMap<HTMLInputElement, Field>();
  private nextId = 0;
  private countdown: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    const style = h('style');
    style.textContent = STYLES;
    this.content = h('div', { part: 'card', class: 'card' });
    this.statusLine = h('p', { part: 'status', class: 'status', role: 'status', 'aria-live': 'polite' });
    this.root.append(style, this.content, this.statusLine);
  }

  /** The SDK client the element uses: set it to share your app's, or give the element a `url` attribute. */
  get authn(): AuthnClient | null {
    return this.client;
  }

  set authn(client: AuthnClient | null) {
    this.client = client;
    if (this.isConnected) void this.start();
  }

  connectedCallback(): void {
    connected.add(this);
    document.addEventListener('visibilitychange', this.onVisible);
    void this.start();
  }

  disconnectedCallback(): void {
    connected.delete(this);
    document.removeEventListener('visibilitychange', this.onVisible);
    this.stopCountdown();
    this.disconnected();
  }

  attributeChangedCallback(name: string, before: string | null, after: string | null): void {
    // The first value (before === null) arrives as the element upgrades, just before connectedCallback starts it.
    if (name === 'url' && before !== null && before !== after && this.isConnected) {
      this.client = null;
      void this.start();
    }
  }

  /**
   * Reads the environment again (an operator may have configured an SMS driver or turned phone MFA on or off) and
   * updates every element on the page that shares this client. Also runs when the page becomes visible again.
   */
  async refresh(): Promise<void> {
    const client = this.resolveClient();
    if (!client) return;
    // Elements sharing the client that ask at once (the page became visible) share one request and one update.
    let reading = rereads.get(client);
    if (!reading) {
      reading = client.getEnvironment().then((result) => {
        if (result.error) return this.setStatus(result.error.message, true);
        for (const element of connected) if (element.client === client) element.applyEnvironment(result.data);
      });
      rereads.set(client, reading);
      void reading.finally(() => rereads.delete(client));
    }
    return reading;
  }

  private readonly onVisible = () => {
    if (document.visibilityState === 'visible' && this.environment) void this.refresh();
  };

  private resolveClient(): AuthnClient | null {
    if (this.client) return this.client;
    const url = this.getAttribute('url');
    if (!url) return null;
    let client = clients.get(url);
    if (!client) {
      client = createAuthn({ url });
      clients.set(url, client);
    }
    this.client = client;
    return client;
  }

  private async start(): Promise<void> {
    const client = this.resolveClient();
    if (!client) return this.setStatus('This form is not set up: give it a url attribute (the authn.sh server) or an authn client.', true);
    const loading = client.environment ?? environmentOf(client);
    void sessionRestored(client);
    const loaded = await loading;
    if (client !== this.client) return;
    if (loaded instanceof AuthnError) return this.setStatus(`${loaded.message} Reload the page to try again.`, true);
    this.environment = loaded;
    this.connected(client);
    this.emit('authn:ready', { environment: loaded });
  }

  private applyEnvironment(environment: Environment): void {
    this.environment = environment;
    this.environmentChanged(environment);
  }

  /** Renders the element once the client and environment are known. */
  protected abstract connected(client: AuthnClient): void;
  /** The environment was read again (`refresh()`): update what depends on it. */
  protected environmentChanged(_environment: Environment): void {}
  protected disconnected(): void {}

  /** Replaces what the element shows (a new step of the flow); the status line stays. */
  protected show(...children: Node[]): void {
    this.stopCountdown();
    this.content.replaceChildren(...children);
  }

  protected emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  protected setStatus(text: string, isError = false): void {
    this.statusLine.textContent = text;
    this.statusLine.classList.toggle('status-error', isError);
  }

  protected heading(text: string): HTMLElement {
    return h('h2', { part: 'heading', class: 'heading' }, text);
  }

  protected button(text: string, attributes: Attributes = {}, secondary = false): HTMLButtonElement {
    return h(
      'button',
      {
        type: 'button',
        part: secondary ? 'button button-secondary' : 'button',
        class: secondary ? 'button secondary' : 'button',
        ...attributes,
      },
      text,
    );
  }

  protected form(onSubmit: () => Promise<void>, ...children: Node[]): HTMLFormElement {
    const form = h('form', { part: 'form', class: 'form', novalidate: true }, ...children);
    let busy = false;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (busy) return;
      busy = true;
      form.setAttribute('aria-busy', 'true');
      onSubmit().finally(() => {
        busy = false;
        form.removeAttribute('aria-busy');
      });
    });
    return form;
  }

  /** A labelled input with its error line beside it (the input is described by both its hint and its error). */
  protected field(name: string, label: string, attributes: Attributes, hint?: string): Field {
    const id = `${name}-${this.nextId++}`;
    const error = h('p', { id: `${id}-error`, part: 'field-error', class: 'field-error', hidden: true });
    const hintLine = hint ? h('p', { id: `${id}-hint`, part: 'hint', class: 'hint' }, hint) : null;
    const input = h('input', {
      id,
      name,
      part: 'input',
      class: 'input',
      'aria-describedby': hint ? `${id}-hint` : undefined,
      ...attributes,
    });
    const block = h(
      'div',
      { class: 'field' },
      h('label', { for: id, part: 'label', class: 'label' }, label),
      ...(hintLine ? [hintLine] : []),
      input,
      error,
    );
    input.addEventListener('input', () => this.clearFieldError(field));
    const field: Field = { name, block, input, error };
    this.fieldOf.set(input, field);
    return field;
  }

  /** The phone number: a country choice limited to the instance's countries, and the number kept in E.164 as typed. */
  protected phoneField(label = 'Phone number', value = ''): Field {
    const countries = this.environment?.phone_number.countries ?? [];
    const preferred = this.getAttribute('default-country')?.toUpperCase();
    // The first paint shows codes (`US (+1)`) unless the names are already loaded; the names follow once painted.
    const country = h(
      'select',
      { id: `country-${this.nextId}`, part: 'country', class: 'country', 'aria-label': `${label}: country` },
      ...countries.map((code) => h('option', { value: code, selected: code === preferred }, countryLabel(code, regionNames))),
    );
    if (regionNames === undefined) {
      afterPaint(() => {
        const names = countryNames();
        for (const option of country.options) option.textContent = countryLabel(option.value, names);
      });
    }
    const field = this.field(
      'phone_number',
      label,
      { type: 'tel', autocomplete: 'tel', inputmode: 'tel', value, placeholder: `+${callingCode(country.value)}…` },
      'Pick your country and type your number: it is written in international form as you type.',
    );
    field.block.insertBefore(h('div', { class: 'phone-row' }, country, field.input), field.error);
    let selected = country.value;
    country.addEventListener('change', () => {
      field.input.value = switchCountry(field.input.value, selected, country.value);
      field.input.placeholder = `+${callingCode(country.value)}…`;
      selected = country.value;
    });
    field.input.addEventListener('input', () => {
      const input = field.input;
      const caretDigits = input.value.slice(0, input.selectionStart ?? input.value.length).replace(/\D/g, '').length;
      const before = input.value.replace(/\D/g, '').length;
      const e164 = toE164(country.value, input.value);
      input.value = e164;
      // The caret stays after the same digit (the calling code may have been added in front).
      const added = e164.replace(/\D/g, '').length - before;
      let position = e164.startsWith('+') ? 1 : 0;
      for (let seen = 0; position < e164.length && seen < caretDigits + Math.max(0, added); position++)
        if (/\d/.test(e164[position]!)) seen++;
      input.setSelectionRange(position, position);
      const match = countryOf(e164, countries, country.value);
      if (match && match !== country.value) {
        country.value = match;
        selected = match;
      }
    });
    return field;
  }

  /** The one-time code: numeric keyboard, and the browser's autofill of an SMS code (the origin-bound line). */
  protected codeField(label = 'Verification code'): Field {
    const length = this.environment?.phone_code.length ?? 6;
    return this.field(
      'code',
      label,
      { type: 'text', autocomplete: 'one-time-code', inputmode: 'numeric', pattern: '[0-9]*', maxlength: String(length) },
      `The ${length}-digit code we sent by SMS.`,
    );
  }

  /**
   * Where the code's SMS stands, in its own `aria-live` region beside the code input: read again every 2 s while
   * the message is on its way (`reload`), until a final state, or until the line leaves the page (another step is
   * shown, the element is removed). A failure's "try again in N s" is said once, and once more when the time has come.
   */
  protected deliveryLine(current: () => Delivery | null, reload: () => Promise<unknown>): DeliveryLine {
    const element = h('p', { part: 'delivery', class: 'delivery', 'aria-live': 'polite', 'aria-atomic': 'true' });
    let round = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const render = () => {
      const delivery = current();
      element.textContent = deliveryText(delivery, Date.now());
      element.classList.toggle('delivery-failed', delivery?.status === 'undelivered' || delivery?.status === 'failed');
      return delivery;
    };
    const follow = () => {
      const mine = ++round;
      clearTimeout(timer);
      const step = async () => {
        if (mine !== round || !element.isConnected) return;
        await reload();
        if (mine !== round || !element.isConnected) return;
        schedule(render());
      };
      const schedule = (delivery: Delivery | null) => {
        if (deliveryPending(delivery)) timer = setTimeout(step, DELIVERY_POLL_MS);
        else if (delivery?.resend_after && delivery.resend_after > Date.now())
          timer = setTimeout(() => mine === round && element.isConnected && render(), delivery.resend_after - Date.now());
      };
      // The line is put in place after this call: the first read waits for it.
      queueMicrotask(() => schedule(render()));
    };
    follow();
    return { element, follow };
  }

  /** The form of a code step, and how to focus its input once it is shown; the delivery line follows a resend. */
  protected codeForm<T, R>(step: CodeForm<T, R>): { form: HTMLFormElement; focus: () => void } {
    const code = this.codeField();
    const deliveryLine = this.deliveryLine(step.delivery, step.reload);
    const submit = async () => {
      this.setStatus('Checking the code…');
      const result = await step.verify(code.input.value.trim());
      if (result.error) return this.showError(result.error);
      await step.verified(result.data);
    };
    const resend = this.resendButton(step.resendIn, async () => {
      const sent = await step.resend();
      if (sent.error) return this.showError(sent.error);
      step.resent?.(sent.data);
      this.setStatus('We sent a new code.');
      deliveryLine.follow();
    });
    const leave = this.button(step.leave.label, { class: `button secondary ${step.leave.class}` }, true);
    leave.addEventListener('click', () => {
      this.setStatus('');
      void step.leave.action();
    });
    const form = this.form(
      submit,
      code.block,
      deliveryLine.element,
      h('div', { class: 'actions' }, h('button', { type: 'submit', part: 'button', class: 'button' }, 'Verify'), resend, leave),
    );
    return { form, focus: () => code.input.focus() };
  }

  /** Shows a code step of its own, under `title`. */
  protected codeStep<T, R>(title: string, step: CodeForm<T, R>): void {
    const { form, focus } = this.codeForm(step);
    this.show(this.heading(title), form);
    focus();
  }

  protected passwordField(label: string, autocomplete: 'current-password' | 'new-password'): Field {
    return this.field('password', label, { type: 'password', autocomplete });
  }

  /** Shows a refusal: each error beside the field it names (the first of them focused), the rest in the status line. */
  protected showError(error: AuthnError): void {
    const fields = [...this.root.querySelectorAll('input')].flatMap((input) => this.fieldOf.get(input) ?? []);
    for (const field of fields) this.clearFieldError(field);
    const general: string[] = [];
    let first: Field | null = null;
    for (const detail of error.errors.length
      ? error.errors
      : [{ message: error.message, meta: { param_name: error.paramName ?? undefined } }]) {
      const param = detail.meta?.param_name;
      const field = param ? fields.find((f) => f.name === FIELD_OF_PARAM[param]) : undefined;
      if (!field) {
        general.push(detail.message);
        continue;
      }
      field.error.textContent = detail.message;
      field.error.hidden = false;
      field.block.classList.add('invalid');
      field.input.setAttribute('aria-invalid', 'true');
      field.input.setAttribute(
        'aria-describedby',
        [field.input.getAttribute('aria-describedby'), field.error.id].filter(Boolean).join(' '),
      );
      first ??= field;
    }
    this.setStatus(general.length ? general.join(' ') : 'Please correct the field marked below.', true);
    first?.input.focus();
  }

  private clearFieldError(field: Field): void {
    if (field.error.hidden) return;
    field.error.hidden = true;
    field.error.textContent = '';
    field.block.classList.remove('invalid');
    field.input.removeAttribute('aria-invalid');
    field.input.setAttribute(
      'aria-describedby',
      (field.input.getAttribute('aria-describedby') ?? '')
        .split(' ')
        .filter((id) => id !== field.error.id)
        .join(' '),
    );
  }

  /** A "Resend code" button that counts down the seconds `secondsLeft()` gives, and is usable at 0. */
  protected resendButton(secondsLeft: () => number, onResend: () => Promise<void>): HTMLButtonElement {
    const button = this.button('Resend code', { class: 'button secondary resend' }, true);
    const tick = () => {
      const left = secondsLeft();
      button.disabled = left > 0;
      button.textContent = left > 0 ? `Resend code in ${left} s` : 'Resend code';
      if (left === 0) this.stopCountdown();
    };
    const restart = () => {
      this.stopCountdown();
      tick();
      if (secondsLeft() > 0) this.countdown = setInterval(tick, 1000);
    };
    button.addEventListener('click', () => {
      button.disabled = true;
      void onResend().finally(restart);
    });
    queueMicrotask(restart);
    return button;
  }

  protected stopCountdown(): void {
    clearInterval(this.countdown);
    this.countdown = undefined;
  }

  /** Whether the instance can use the phone second factor: an SMS driver configured and phone MFA on. */
  protected phoneMfaAvailable(): boolean {
    return this.environment !== null && this.environment.sms.driver !== null && this.environment.multi_factor.phone_code.enabled;
  }
}
