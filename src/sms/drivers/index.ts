/** A driver (by default the one the instance settings select), built from the settings of the moment (credentials decrypted). */
import type { InstanceSettings, SmsDriverName } from '../../instance/settings.js';
import type { CarrierHttp } from './carrier-http.js';
import { permanent, type DriverName, type SmsDriver } from './driver.js';
import { NullDriver } from './null.js';
import { TwilioDriver } from './twilio.js';
import { VonageDriver } from './vonage.js';

export interface DriverDeps {
  http: CarrierHttp;
  twilioApiUrl: string;
  vonageApiUrl: string;
}

export function createDriver(settings: InstanceSettings, deps: DriverDeps, name: SmsDriverName | null = settings.sms.driver): SmsDriver {
  const { sms } = settings;
  switch (name) {
    case 'twilio':
      if (!sms.twilio.account_sid || !sms.twilio.auth_token)
        return misconfigured('twilio', 'sms.twilio.account_sid and sms.twilio.auth_token');
      return new TwilioDriver({
        apiUrl: deps.twilioApiUrl,
        accountSid: sms.twilio.account_sid,
        authToken: sms.twilio.auth_token,
        http: deps.http,
      });
    case 'vonage':
      if (!sms.vonage.api_key || !sms.vonage.api_secret) return misconfigured('vonage', 'sms.vonage.api_key and sms.vonage.api_secret');
      return new VonageDriver({ apiUrl: deps.vonageApiUrl, apiKey: sms.vonage.api_key, apiSecret: sms.vonage.api_secret, http: deps.http });
    case null:
      return new NullDriver();
  }
}

/** Settings validation keeps a selected driver's credentials present; this covers a store edited by hand. */
function misconfigured(name: DriverName, needs: string): SmsDriver {
  return {
    name,
    send: async () => {
      throw permanent('driver_not_configured', `the ${name} driver needs ${needs}`);
    },
  };
}
