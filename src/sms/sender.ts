/** Which sender a message goes out from. */
import type { InstanceSettings } from '../instance/settings.js';

/** A Twilio messaging service replaces both the template's override and the default sender. */
export function chooseSender(
  settings: InstanceSettings,
  override: string | null,
): { from: string | null; messagingServiceSid: string | null } {
  if (settings.sms.driver === 'twilio' && settings.sms.twilio.messaging_service_sid) {
    return { from: null, messagingServiceSid: settings.sms.twilio.messaging_service_sid };
  }
  return { from: override ?? settings.sms.from_number, messagingServiceSid: null };
}
