/** The SDK core within its budget (15 kB gzipped as a minified browser bundle), measured as `npm run bench sdk-size` does. */
import { describe, expect, it } from 'vitest';
import { ELEMENTS_BUDGET_BYTES, SDK_CORE_BUDGET_BYTES, SDK_CORE_SOURCE, bundledSize, elementsSize } from '../../bench/sections/sdk-size.js';

describe('SDK size', () => {
  it('the core bundles to at most 15 kB gzipped', async () => {
    const { gzipped, minified } = await bundledSize(SDK_CORE_SOURCE);
    // A bundle of nothing would pass the budget too: the core is a few kB of real code.
    expect(minified).toBeGreaterThan(4 * 1024);
    expect(gzipped).toBeLessThanOrEqual(SDK_CORE_BUDGET_BYTES);
  });
});

describe('elements size', () => {
  it('the web components, SDK included, bundle to at most 40 kB gzipped', async () => {
    const { gzipped, minified } = await elementsSize();
    // The three elements and the SDK are well over 20 kB of minified code: an empty bundle would not pass.
    expect(minified).toBeGreaterThan(20 * 1024);
    expect(gzipped).toBeLessThanOrEqual(ELEMENTS_BUDGET_BYTES);
  });
});
