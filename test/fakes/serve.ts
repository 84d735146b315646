/**
 * Runs a fake carrier as its own process (the benchmark puts it beside the server, on the other core):
 *   tsx test/fakes/serve.ts twilio '{"accountSid":"AC…","authToken":"…","callbacks":"auto"}'
 * Prints `{"url": …}` once listening; SIGTERM stops it.
 */
import { FakeTwilio, type FakeTwilioOptions } from './twilio.js';
import { FakeVonage, type FakeVonageOptions } from './vonage.js';

const [carrier, json] = process.argv.slice(2);
const fake =
  carrier === 'vonage'
    ? await FakeVonage.start(JSON.parse(json ?? '{}') as FakeVonageOptions)
    : await FakeTwilio.start(JSON.parse(json ?? '{}') as FakeTwilioOptions);
process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
process.on('SIGTERM', () => {
  void fake.close().then(() => process.exit(0));
});
