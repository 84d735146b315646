/**
 * The SMS wizard's "Routing & failover" step: routes by destination country and the failover settings, as the inputs
 * hold them, and the changes that save them. Pure functions, no DOM. A number that is not a whole number is sent as
 * typed, so the API's own field error explains it beside its input.
 */
import { TEMPLATES, TEMPLATE_SLUGS, type TemplateSlug } from '../../sms/templates/catalogue.js';
import { parseCountries } from './abuse-form.js';
import type { ApiErrorDetail, InstanceSettings, SmsDriver, SmsRoute } from './api-types.js';
import type { FormField } from './form-errors.js';
import { setIn, type JsonPatch } from './settings-form.js';

/** A route's failover: a driver, or `instance` for the instance-wide failover driver (`failover_driver: null`). */
export type RouteFailover = SmsDriver | 'instance';

export interface RouteDraft {
  /** ISO 3166-1 alpha-2 codes, separated by commas or spaces. */
  countries: string;
  driver: SmsDriver;
  failover: RouteFailover;
}

export interface RoutingDraft {
  routes: RouteDraft[];
  failoverDriver: SmsDriver | 'none';
  afterTransientFailures: string;
  /** Whether a missing delivery receipt moves a message at all (`receipt_wait_seconds` not null). */
  receiptWait: boolean;
  receiptWaitSeconds: string;
  receiptWaitTemplates: TemplateSlug[];
}

/** Shown when the receipt wait is switched on and had none. */
const DEFAULT_RECEIPT_WAIT_SECONDS = 60;

export const RECEIPT_WAIT_TEMPLATES = TEMPLATE_SLUGS.map((slug) => ({ slug, name: TEMPLATES[slug].name }));

export function routingDraftFrom(view: InstanceSettings): RoutingDraft {
  const { routes, failover } = view.sms;
  return {
    routes: routes.map((route) => ({
      countries: route.countries.join(', '),
      driver: route.driver,
      failover: route.failover_driver ?? 'instance',
    })),
    failoverDriver: failover.driver ?? 'none',
    afterTransientFailures: String(failover.after_transient_failures),
    receiptWait: failover.receipt_wait_seconds !== null,
    receiptWaitSeconds: String(failover.receipt_wait_seconds ?? DEFAULT_RECEIPT_WAIT_SECONDS),
    receiptWaitTemplates: [...failover.receipt_wait_templates],
  };
}

/** A new route: through the driver that is not the instance's first, so that adding one means something. */
export function newRoute(view: InstanceSettings): RouteDraft {
  return { countries: '', driver: view.sms.driver === 'vonage' ? 'twilio' : 'vonage', failover: 'instance' };
}

export function routesOf(draft: RoutingDraft): SmsRoute[] {
  return draft.routes.map((route) => ({
    countries: parseCountries(route.countries),
    driver: route.driver,
    failover_driver: route.failover === 'instance' ? null : route.failover,
  }));
}

const wholeNumberOrText = (typed: string): number | string => (/^\d+$/.test(typed.trim()) ? Number(typed.trim()) : typed.trim());

/** Adds to `patch` what the draft changes: only what changed; the list of routes, when it changed, whole. */
export function addRoutingChanges(patch: JsonPatch, view: InstanceSettings, draft: RoutingDraft): void {
  const { failover } = view.sms;
  const routes = routesOf(draft);
  if (JSON.stringify(routes) !== JSON.stringify(view.sms.routes))
    setIn(
      patch,
      'sms.routes',
      routes.map((route) => ({ ...route })),
    );
  const failoverDriver = draft.failoverDriver === 'none' ? null : draft.failoverDriver;
  if (failoverDriver !== failover.driver) setIn(patch, 'sms.failover.driver', failoverDriver);
  const tries = wholeNumberOrText(draft.afterTransientFailures);
  if (tries !== failover.after_transient_failures) setIn(patch, 'sms.failover.after_transient_failures', tries);
  const wait = draft.receiptWait ? wholeNumberOrText(draft.receiptWaitSeconds) : null;
  if (wait !== failover.receipt_wait_seconds) setIn(patch, 'sms.failover.receipt_wait_seconds', wait);
  const templates = TEMPLATE_SLUGS.filter((slug) => draft.receiptWaitTemplates.includes(slug));
  const unchanged =
    templates.length === failover.receipt_wait_templates.length &&
    templates.every((slug) => failover.receipt_wait_templates.includes(slug));
  if (!unchanged) setIn(patch, 'sms.failover.receipt_wait_templates', templates);
}

/**
 * The step's fields in page order, with a route's fields numbered as the page shows them (from 1), and how the
 * "saved" notice names each setting a patch can hold.
 */
export function routingFields(routeCount: number): (FormField & { saved: string })[] {
  const routes = Array.from({ length: routeCount }, (_, i) => [
    { param: `sms.routes.${i}`, label: `Route ${i + 1}` },
    { param: `sms.routes.${i}.countries`, label: `Countries of route ${i + 1}` },
    { param: `sms.routes.${i}.driver`, label: `Driver of route ${i + 1}` },
    { param: `sms.routes.${i}.failover_driver`, label: `Failover driver of route ${i + 1}` },
  ]);
  return [
    { param: 'sms.routes', label: 'Routes', saved: 'routes' },
    ...routes.flat().map((field) => ({ ...field, saved: 'routes' })),
    { param: 'sms.failover.driver', label: 'Failover driver', saved: 'failover driver' },
    {
      param: 'sms.failover.after_transient_failures',
      label: 'Transient failures before failover',
      saved: 'transient failures before failover',
      says: { form_param_type_invalid: 'Transient failures before failover must be a whole number.' },
    },
    {
      param: 'sms.failover.receipt_wait_seconds',
      label: 'Wait for a delivery receipt',
      saved: 'wait for a delivery receipt',
      says: { form_param_type_invalid: 'Wait for a delivery receipt must be a whole number of seconds.' },
    },
    { param: 'sms.failover.receipt_wait_templates', label: 'Messages that wait for a receipt', saved: 'messages that wait for a receipt' },
  ];
}

const COUNTRY_ENTRY = /^sms\.routes\.(\d+)\.countries\.(\d+)(?=[ :])/;

/**
 * The API names a refused country by its place (`sms.routes.0.countries.1`), which the page's one text box per route
 * does not show: the error names the country as it was sent instead, and stands beside that box.
 */
export function nameRouteCountries(errors: readonly ApiErrorDetail[], sent: readonly SmsRoute[]): ApiErrorDetail[] {
  return errors.map((error) => {
    const match = COUNTRY_ENTRY.exec(error.long_message);
    const country = match ? sent[Number(match[1])]?.countries[Number(match[2])] : undefined;
    if (!match || country === undefined) return error;
    return { ...error, long_message: error.long_message.replace(COUNTRY_ENTRY, `sms.routes.${match[1]}.countries: ${country}`) };
  });
}
