/**
 * The elements' look, inside their Shadow DOM. Themed from the page with CSS custom properties (inherited through
 * the shadow boundary) and `::part()`; sizes in rem and a single column, so a 320 px screen reads it.
 */
export const STYLES = `
:host{display:block;box-sizing:border-box;max-width:var(--authn-max-width,26rem);font-family:var(--authn-font-family,system-ui,sans-serif);font-size:var(--authn-font-size,1rem);color:var(--authn-color-text,#1a1a1a);line-height:1.4}
:host([hidden]){display:none}
*,*::before,*::after{box-sizing:inherit}
.card{background:var(--authn-color-background,#fff);border:1px solid var(--authn-color-border,#c9c9cf);border-radius:var(--authn-radius,.5rem);padding:var(--authn-spacing,1rem)}
.heading{font-size:1.25em;margin:0 0 .75em}
.form{display:grid;gap:.75em;margin:0}
.field{display:grid;gap:.25em;min-width:0}
.label{font-weight:600}
.hint{margin:0;font-size:.875em;color:var(--authn-color-muted,#55555c)}
.phone-row{display:flex;gap:.5em;min-width:0}
.country{flex:0 1 9em;min-width:0}
.input,.country{font:inherit;color:inherit;background:var(--authn-color-input-background,#fff);border:1px solid var(--authn-color-border,#8a8a93);border-radius:var(--authn-radius,.5rem);padding:.5em .625em;min-height:2.75em;width:100%;min-width:0}
.phone-row .input{flex:1 1 auto}
.invalid .input{border-color:var(--authn-color-error,#b00020)}
.field-error{margin:0;font-size:.875em;color:var(--authn-color-error,#b00020)}
.actions{display:flex;flex-wrap:wrap;gap:.5em}
.button{font:inherit;font-weight:600;min-height:2.75em;padding:.5em 1em;border-radius:var(--authn-radius,.5rem);border:1px solid var(--authn-color-primary,#2f3ab2);background:var(--authn-color-primary,#2f3ab2);color:var(--authn-color-primary-text,#fff);cursor:pointer}
.button.secondary{background:transparent;color:var(--authn-color-primary,#2f3ab2)}
.button:disabled{opacity:.6;cursor:default}
.input:focus-visible,.country:focus-visible,.button:focus-visible,.switch:focus-visible{outline:3px solid var(--authn-color-focus,#1a73e8);outline-offset:2px}
.status{margin:.5em 0 0;min-height:1.4em;font-size:.875em}
.status-error{color:var(--authn-color-error,#b00020)}
.delivery{margin:0;font-size:.875em;color:var(--authn-color-muted,#55555c)}
.delivery:empty{display:none}
.delivery-failed{color:var(--authn-color-error,#b00020)}
.list{list-style:none;margin:0 0 .75em;padding:0;display:grid;gap:.5em}
.item{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5em;overflow-wrap:anywhere}
.switch{display:flex;align-items:center;gap:.75em;font:inherit;color:inherit;background:none;border:0;padding:.25em 0;cursor:pointer;text-align:start}
.switch-track{flex:none;width:2.5em;height:1.4em;border-radius:1em;background:var(--authn-color-border,#8a8a93);position:relative}
.switch-track::after{content:'';position:absolute;top:.2em;left:.2em;width:1em;height:1em;border-radius:50%;background:#fff;transition:left .15s}
.switch[aria-checked=true] .switch-track{background:var(--authn-color-primary,#2f3ab2)}
.switch[aria-checked=true] .switch-track::after{left:1.3em}
.section{border-top:1px solid var(--authn-color-border,#c9c9cf);margin-top:1em;padding-top:1em}
.section-heading{font-size:1.05em;margin:0 0 .5em}
`;

/**
 * The Content-Security-Policy source that allows STYLES, the one inline style the elements add (each shadow root's
 * `<style>`): `style-src 'self' ${STYLES_CSP_HASH}` instead of 'unsafe-inline'. test/elements/styles.test.ts keeps
 * it the hash of STYLES.
 */
export const STYLES_CSP_HASH = "'sha256-PAO7wNpAjCXbFwliC0Z2H/Isao/zamkziMS5iUt6i5c='";
