/**
 * The SMS template store: a stored override of a slug, or its shipped default. The send engine reads it
 * (`resolve`, `render`); BAPI manages it (`list`, `get`, `update`, `revert`, `preview`).
 *
 * A change is one transaction: lock the slug, load, merge, validate the result, write, audit. A rejected
 * change writes nothing. A template equal to its default is stored as no row, so "customised" means "differs
 * from the shipped default".
 */
import type { Clock } from '../../clock.js';
import { AppError, appError, errorDetail, type ErrorDetail } from '../../errors.js';
import { recordAudit, type Actor } from '../../audit/audit-log.js';
import type { Db, Executor, Tx } from '../../store/database.js';
import { lockKey } from '../../store/locks.js';
import { prepared } from '../../store/prepared.js';
import type { SmsTemplatesTable } from '../../store/schema.js';
import type { InstanceService, SettingsCheck } from '../../instance/service.js';
import { mergePatch, type InstanceSettings } from '../../instance/settings.js';
import type { SmsEncoding, SmsMeasure } from '../encoding.js';
import { chooseSender } from '../sender.js';
import { TEMPLATE_SLUGS, TEMPLATES, isTemplateSlug, type TemplateSlug, type VariableName } from './catalogue.js';
import { composeMessage, defaultFields, isDefault, sampleValues, validateTemplate, type TemplateFields } from './message.js';

export interface ResolvedTemplate extends TemplateFields {
  slug: TemplateSlug;
  /** Whether the stored template differs from the shipped default. */
  customised: boolean;
  /** When it was last changed (null: the shipped default). */
  updated_at: number | null;
}

export function defaultTemplate(slug: TemplateSlug): ResolvedTemplate {
  return { slug, ...defaultFields(slug), customised: false, updated_at: null };
}

export interface RenderedMessage extends SmsMeasure {
  body: string;
}

/** A merge patch of a template (absent: unchanged; null: back to the default). */
export interface TemplatePatch {
  body?: string | null;
  from_number_override?: string | null;
  delivered_by_us?: boolean | null;
}

export interface PreviewInput {
  /** A body to try; the stored one when absent. */
  body?: string;
  /** Values over the samples. */
  variables?: Record<string, string>;
}

/** What a template object and a preview both say about a slug. */
interface TemplateFacts {
  slug: TemplateSlug;
  available_variables: VariableName[];
  required_variables: VariableName[];
  customised: boolean;
  from_number_override: string | null;
  /** true while a Twilio messaging service SID is configured: it picks the sender. */
  from_number_override_ignored: boolean;
}

interface Measured {
  encoding: SmsEncoding;
  characters: number;
  segments: number;
}

export interface TemplateView extends TemplateFacts, Measured {
  object: 'sms_template';
  name: string;
  body: string;
  delivered_by_us: boolean;
  /** The message with sample values, which `encoding`, `characters` and `segments` measure. */
  sample_message: string;
  updated_at: number | null;
}

export interface PreviewView extends TemplateFacts, Measured {
  object: 'sms_template_preview';
  /** The template body previewed (the given one, or the stored one). */
  body: string;
  /** The message as it would be sent. */
  message: string;
  /** The values used, after cleaning. */
  variables: Record<string, string>;
}

export interface FieldChange {
  path: keyof TemplateFields;
  old: unknown;
  new: unknown;
}

const FIELDS = ['body', 'from_number_override', 'delivered_by_us'] as const satisfies readonly (keyof TemplateFields)[];

function fieldsOf(template: TemplateFields): TemplateFields {
  return { body: template.body, from_number_override: template.from_number_override, delivered_by_us: template.delivered_by_us };
}

function diffFields(before: TemplateFields, after: TemplateFields): FieldChange[] {
  return FIELDS.filter((field) => before[field] !== after[field]).map((field) => ({ path: field, old: before[field], new: after[field] }));
}

function knownSlug(slug: string): TemplateSlug {
  if (isTemplateSlug(slug)) return slug;
  throw appError('sms_template_not_found', {
    paramName: 'slug',
    longMessage: `No SMS template "${slug}"; the templates are ${TEMPLATE_SLUGS.join(', ')}`,
  });
}

/** Read by every send: compiled once. */
const templateBySlug = prepared<{ slug: TemplateSlug }, SmsTemplatesTable>((db, $) =>
  db.selectFrom('sms_templates').selectAll().where('slug', '=', $('slug')),
);

/**
 * How long the send path may use a template it read (the instance settings are cached as long): a change made
 * by this process is seen at once, one made by another server process within this time.
 */
const SEND_CACHE_TTL_MS = 1_000;

/** Key-lock namespace for template writes ("SMST"); the key is the slug's index. */
const LOCK_NAMESPACE = 0x534d5354;

export class TemplateService {
  /** What the send path read, by slug: every send reads its template, and templates rarely change. */
  private readonly sendCache = new Map<TemplateSlug, { template: ResolvedTemplate; at: number }>();
  /** Bumped by every write here, so a read that started before it does not cache the old template. */
  private generation = 0;

  private readonly db: Db;
  private readonly clock: Clock;
  private readonly instance: InstanceService;

  constructor(deps: { db: Db; clock: Clock; instance: InstanceService }) {
    this.db = deps.db;
    this.clock = deps.clock;
    this.instance = deps.instance;
  }

  async resolve(slug: TemplateSlug, executor: Executor = this.db): Promise<ResolvedTemplate> {
    const row = await templateBySlug.takeFirst(executor, { slug });
    if (!row) return defaultTemplate(slug);
    const fields: TemplateFields = {
      body: row.body,
      from_number_override: row.from_number_override,
      delivered_by_us: row.delivered_by_us === 1,
    };
    return { slug, ...fields, customised: !isDefault(slug, fields), updated_at: row.updated_at };
  }

  /** The template a send uses: `resolve`, served from a copy at most `SEND_CACHE_TTL_MS` old. */
  async forSend(slug: TemplateSlug, executor: Executor): Promise<ResolvedTemplate> {
    const cached = this.sendCache.get(slug);
    const now = this.clock.now();
    if (cached && now - cached.at < SEND_CACHE_TTL_MS) return cached.template;
    const generation = this.generation;
    const template = await this.resolve(slug, executor);
    if (generation === this.generation) this.sendCache.set(slug, { template, at: now });
    return template;
  }

  /**
   * The message a template makes for these variables (`app_name` from the settings unless given), with the
   * origin-bound line when enabled. A value breaking its variable's rule is refused (see variables.ts).
   */
  render(template: ResolvedTemplate, variables: Readonly<Record<string, string>>, settings: InstanceSettings): RenderedMessage {
    const { body, encoding, characters, segments } = composeMessage(template.slug, template.body, variables, settings);
    return { body, encoding, characters, segments };
  }

  async list(): Promise<TemplateView[]> {
    const settings = await this.instance.current();
    const templates = await Promise.all(TEMPLATE_SLUGS.map((slug) => this.resolve(slug)));
    return templates.map((template) => this.view(template, settings));
  }

  async get(slug: string): Promise<TemplateView> {
    const template = await this.resolve(knownSlug(slug));
    return this.view(template, await this.instance.current());
  }

  async update(slug: string, patch: TemplatePatch, actor: Actor): Promise<TemplateView> {
    const known = knownSlug(slug);
    const settings = await this.instance.current();
    const saved = await this.db.transaction().execute(async (tx) => {
      await this.lock(tx, known);
      const before = await this.resolve(known, tx);
      const after = mergePatch(fieldsOf(before), patch, defaultFields(known));
      const errors = validateTemplate(known, after, settings);
      if (errors.length) throw new AppError(errors);
      const changes = diffFields(before, after);
      if (changes.length === 0) return before;
      await this.write(tx, known, after);
      await recordAudit(tx, this.clock, {
        actor,
        action: 'sms_template.updated',
        target: { type: 'sms_template', id: known },
        data: { changes },
      });
      return this.resolve(known, tx);
    });
    this.forgetSent();
    return this.view(saved, settings);
  }

  /** Back to the shipped default: body, override and flag. A template already at its default writes no entry. */
  async revert(slug: string, actor: Actor): Promise<TemplateView> {
    const known = knownSlug(slug);
    const settings = await this.instance.current();
    await this.db.transaction().execute(async (tx) => {
      await this.lock(tx, known);
      const changes = diffFields(await this.resolve(known, tx), defaultFields(known));
      await tx.deleteFrom('sms_templates').where('slug', '=', known).execute();
      if (changes.length)
        await recordAudit(tx, this.clock, {
          actor,
          action: 'sms_template.reverted',
          target: { type: 'sms_template', id: known },
          data: { changes },
        });
    });
    this.forgetSent();
    return this.view(defaultTemplate(known), settings);
  }

  /** Renders the stored body or a given one, with the sample values or given ones. Writes nothing. */
  async preview(slug: string, input: PreviewInput): Promise<PreviewView> {
    const known = knownSlug(slug);
    const settings = await this.instance.current();
    const stored = await this.resolve(known);
    const { variables } = TEMPLATES[known];
    const errors: ErrorDetail[] = Object.keys(input.variables ?? {})
      .filter((name) => !(variables as readonly string[]).includes(name))
      .map((name) =>
        errorDetail('sms_template_variable_unknown', {
          paramName: `variables.${name}`,
          longMessage: `variables.${name}: not a variable of the ${known} template (its variables: ${variables.join(', ')})`,
          meta: { variable: name },
        }),
      );
    // A given body must pass what a PATCH of it would (the override is not part of a preview).
    if (input.body !== undefined) errors.push(...validateTemplate(known, { ...defaultFields(known), body: input.body }, settings));
    if (errors.length) throw new AppError(errors);

    const body = input.body ?? stored.body;
    const message = composeMessage(known, body, { ...sampleValues(known, settings), ...input.variables }, settings);
    return {
      object: 'sms_template_preview',
      ...this.facts(stored, settings),
      body,
      message: message.body,
      variables: message.values,
      encoding: message.encoding,
      characters: message.characters,
      segments: message.segments,
    };
  }

  /**
   * For `PATCH /v1/instance`: the stored templates must stay valid under the new settings (an alphanumeric
   * override under twilio; a body that a longer app_name or the origin-bound line pushes past the segment
   * limit). Only problems the change brings are reported, named after the setting.
   */
  readonly settingsCheck: SettingsCheck = async (tx, before, after) => {
    const errors: ErrorDetail[] = [];
    for (const slug of TEMPLATE_SLUGS) {
      const fields = fieldsOf(await this.resolve(slug, tx));
      const key = (error: ErrorDetail) => `${error.code} ${error.meta.param_name}`;
      const existing = new Set(validateTemplate(slug, fields, before).map(key));
      for (const error of validateTemplate(slug, fields, after)) {
        if (existing.has(key(error))) continue;
        const paramName =
          error.meta.param_name === 'from_number_override'
            ? 'sms.driver'
            : before.app_name !== after.app_name
              ? 'app_name'
              : 'sms.origin_bound_codes';
        errors.push(
          errorDetail(error.code, {
            paramName,
            longMessage: `${paramName}: the ${slug} SMS template would break (${error.long_message}); change the template first`,
            meta: { ...error.meta, template: slug },
          }),
        );
      }
    }
    return errors;
  };

  private facts(template: ResolvedTemplate, settings: InstanceSettings): TemplateFacts {
    const { variables, required } = TEMPLATES[template.slug];
    return {
      slug: template.slug,
      available_variables: [...variables],
      required_variables: [...required],
      customised: template.customised,
      from_number_override: template.from_number_override,
      from_number_override_ignored: chooseSender(settings, template.from_number_override).messagingServiceSid !== null,
    };
  }

  private view(template: ResolvedTemplate, settings: InstanceSettings): TemplateView {
    const sample = composeMessage(template.slug, template.body, sampleValues(template.slug, settings), settings);
    return {
      object: 'sms_template',
      ...this.facts(template, settings),
      name: TEMPLATES[template.slug].name,
      body: template.body,
      delivered_by_us: template.delivered_by_us,
      sample_message: sample.body,
      encoding: sample.encoding,
      characters: sample.characters,
      segments: sample.segments,
      updated_at: template.updated_at,
    };
  }

  /** After a change has committed: the next send reads the template again. */
  private forgetSent(): void {
    this.generation++;
    this.sendCache.clear();
  }

  /** Serialises writers of one slug. */
  private async lock(tx: Tx, slug: TemplateSlug): Promise<void> {
    await lockKey(tx, LOCK_NAMESPACE, TEMPLATE_SLUGS.indexOf(slug));
  }

  /** Stores the fields, or no row when they equal the default. */
  private async write(tx: Tx, slug: TemplateSlug, fields: TemplateFields): Promise<void> {
    if (isDefault(slug, fields)) {
      await tx.deleteFrom('sms_templates').where('slug', '=', slug).execute();
      return;
    }
    const values = {
      body: fields.body,
      from_number_override: fields.from_number_override,
      delivered_by_us: fields.delivered_by_us ? 1 : 0,
      updated_at: this.clock.now(),
    };
    await tx
      .insertInto('sms_templates')
      .values({ slug, ...values })
      .onConflict((oc) => oc.column('slug').doUpdateSet(values))
      .execute();
  }
}
