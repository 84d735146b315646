import { describe, expect, it } from 'vitest';
import { deliveryReason, failsOver, failureClass } from '../../src/sms/failures.js';

describe('failure classes', () => {
  it('reads Vonage codes in the numbering of the phase they came from', () => {
    // Send status 4 is "Invalid credentials"; receipt err-code 4 is "Call barred by user".
    expect(failureClass('vonage', 'send', '4')).toBe('credentials');
    expect(failureClass('vonage', 'receipt', '4')).toBe('opted_out');
    expect(failureClass('vonage', 'send', '29')).toBe('route_not_permitted');
  });

  it('reads Twilio codes the same in both phases', () => {
    expect(failureClass('twilio', 'send', '21408')).toBe('route_not_permitted');
    expect(failureClass('twilio', 'receipt', '30003')).toBe('unreachable');
    expect(failureClass('twilio', 'receipt', '30007')).toBe('carrier_filtered');
    expect(failureClass('twilio', 'send', '21211')).toBe('invalid_number');
  });

  it('knows our own codes whatever the driver, and calls the rest unknown', () => {
    expect(failureClass('twilio', 'send', 'timeout')).toBe('carrier_error');
    expect(failureClass('vonage', 'send', 'http_503')).toBe('carrier_error');
    expect(failureClass('null', 'send', 'expired')).toBe('expired');
    expect(failureClass('twilio', 'send', '99999')).toBe('unknown');
    expect(failureClass('twilio', 'receipt', null)).toBe('unknown');
  });

  it('fails over for what belongs to a carrier or account, never for the number or the message', () => {
    for (const code of ['21408', '30007', '30002', '20003', '21606']) expect(failsOver(failureClass('twilio', 'send', code))).toBe(true);
    for (const code of ['21211', '21610', '21614', '30005', '21617', '30003'])
      expect(failsOver(failureClass('twilio', 'send', code))).toBe(false);
    expect(failsOver(failureClass('vonage', 'receipt', '9'))).toBe(false);
    expect(failsOver(failureClass('vonage', 'send', '9'))).toBe(true);
  });

  it('words every failure as one of three reasons a UI can show', () => {
    expect(deliveryReason(failureClass('twilio', 'receipt', '30003'))).toBe('number_unreachable');
    expect(deliveryReason(failureClass('twilio', 'send', '21408'))).toBe('carrier_rejected');
    expect(deliveryReason(failureClass('twilio', 'send', '20429'))).toBe('try_again_later');
  });
});
