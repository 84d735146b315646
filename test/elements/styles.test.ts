/** The elements' stylesheet and the CSP source a page's server allows it by (`@authn.sh/elements/styles`). */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { STYLES, STYLES_CSP_HASH } from '../../packages/elements/src/styles.js';

describe('the elements stylesheet', () => {
  it('exports the sha256 CSP source of exactly the stylesheet the elements insert', () => {
    // On a change of STYLES, set STYLES_CSP_HASH in packages/elements/src/styles.ts to the value this expects.
    expect(STYLES_CSP_HASH).toBe(`'sha256-${createHash('sha256').update(STYLES).digest('base64')}'`);
  });
});
