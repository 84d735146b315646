/**
 * The wizard's last step: send a test SMS through the saved settings (`POST /v1/sms_messages/test`) and follow it
 * (`GET /v1/sms_messages/{id}`, every second while it moves) from queued to delivered, or to the carrier's refusal
 * with its code. A form of its own, after the settings form: Enter here sends the test, not the settings.
 */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { asApiError } from '../api.js';
import type { ApiErrorDetail, SmsMessageDetail, SmsStatus } from '../api-types.js';
import { ErrorSummary, TextField, fieldErrorsOf } from '../components/fields.js';
import { SmsStatusBadge, isUnderWay, statusName } from '../components/sms-status.js';
import { speakErrors, type FormField } from '../form-errors.js';
import { useSmsMessage } from '../hooks.js';
import { useSession } from '../session.js';
import { messageUrl } from './messages.js';

/** The road of a message that goes well; a failure ends it early. */
const ROAD: SmsStatus[] = ['queued', 'sending', 'sent', 'delivered'];
const ORDER: Partial<Record<SmsStatus, number>> = { queued: 0, sending: 1, sent: 2, delivered: 3 };

/** What a status that is not on the road means for this test. */
const OUTCOMES: Partial<Record<SmsStatus, string>> = {
  dropped: 'The null driver dropped it: nothing left the server. Choose Twilio or Vonage above, save, and send again.',
  test_noop:
    'That is a reserved test number (+1 555 555-0100 to 0199): the message is recorded but never sent. Send to a real phone to test the carrier.',
  failed: 'The carrier refused it, or it ran out of attempts.',
  undelivered: 'The carrier took it, then reported that it could not be delivered.',
  expired: 'It expired before it could be sent.',
};

/** The form's one field, as the page names it. */
const TO_FIELD: FormField = { param: 'to', label: 'Phone number' };

export function TestSmsStep({ unsavedChanges }: { unsavedChanges: boolean }) {
  const { api } = useSession();
  const [to, setTo] = useState('');
  const [errors, setErrors] = useState<ApiErrorDetail[]>([]);
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<SmsMessageDetail | null>(null);
  const summaryRef = useRef<HTMLDivElement | null>(null);

  useLayoutEffect(() => {
    if (errors.length > 0) summaryRef.current?.focus();
  }, [errors]);

  const send = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setErrors([]);
    try {
      setSent(await api.post<SmsMessageDetail>('/v1/sms_messages/test', { to: to.trim() }));
    } catch (error) {
      setErrors(asApiError(error).errors);
    } finally {
      setBusy(false);
    }
  };

  const spokenErrors = speakErrors(errors, [TO_FIELD]);
  return (
    <form class="test-sms" onSubmit={send} autocomplete="off" noValidate aria-describedby="test-sms-about">
      <p id="test-sms-about">
        Sends a short fixed message through the <strong>saved</strong> settings, then follows it here until the carrier reports on it.
      </p>
      {unsavedChanges && (
        <p class="warning" role="note">
          You have unsaved changes above: save them first if the test should use them.
        </p>
      )}
      <ErrorSummary title="The test SMS was not sent" errors={spokenErrors} visibleParams={new Set(['to'])} summaryRef={summaryRef} />
      <div class="input-row test-sms-row">
        <TextField
          param="to"
          label={TO_FIELD.label}
          hint="A number you can check, such as +14155550123."
          type="tel"
          code
          value={to}
          onInput={setTo}
          errors={fieldErrorsOf(spokenErrors)}
        />
        <button type="submit" class="button button-primary" aria-disabled={busy}>
          {busy ? 'Sending…' : 'Send test SMS'}
        </button>
      </div>
      {sent && <TestSmsProgress key={sent.id} initial={sent} />}
    </form>
  );
}

function TestSmsProgress({ initial }: { initial: SmsMessageDetail }) {
  const { message: followed, error } = useSmsMessage(initial.id, initial);
  const message = followed ?? initial;
  const { status } = message;
  const onRoad = ORDER[status];
  const wentWrong = status === 'failed' || status === 'undelivered' || status === 'expired';
  // How far along the road it got: where it is, or (gone wrong) whether the carrier took it, or was at least called.
  const progress = onRoad ?? (message.sent_at !== null ? ORDER.sent! : message.attempt_count > 0 ? ORDER.sending! : ORDER.queued!);
  const outcome = OUTCOMES[status];
  return (
    <div class="test-sms-progress" data-test-sms-status={status}>
      <p class="test-sms-status" role="status" aria-live="polite">
        Test SMS to <code>{message.to_phone_number}</code>: <SmsStatusBadge status={status} />
        {isUnderWay(status) && <span class="muted"> (following it…)</span>}
      </p>
      {(onRoad !== undefined || wentWrong) && (
        <ol class="road" aria-label="Progress">
          {ROAD.slice(0, wentWrong ? progress + 1 : ROAD.length).map((step, index) => {
            const state =
              index < progress || (index === progress && (wentWrong || step === 'delivered'))
                ? 'done'
                : index === progress
                  ? 'current'
                  : 'ahead';
            return (
              <li key={step} class={`road-${state}`}>
                {statusName(step)}
                <span class="visually-hidden">{state === 'done' ? ' (done)' : state === 'current' ? ' (now)' : ' (not yet)'}</span>
              </li>
            );
          })}
          {wentWrong && <li class="road-failed">{statusName(status)}</li>}
        </ol>
      )}
      {outcome && <p class={wentWrong ? 'carrier-error' : 'muted'}>{outcome}</p>}
      {(message.error_code || message.error_message) && (
        <p class="carrier-error" role="alert">
          Error: {message.error_code && <code>{message.error_code}</code>} {message.error_message}
        </p>
      )}
      {error && <p class="field-error">Could not follow it ({error.code}); it shows what was last known.</p>}
      <p>
        <a href={messageUrl(message.id)}>See it in the message log</a>
      </p>
    </div>
  );
}
