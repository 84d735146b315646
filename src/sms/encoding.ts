/**
 * SMS encoding and segment counting (3GPP TS 23.038 / 23.040). A body is GSM-7 when every character is in the
 * GSM 7-bit default alphabet or its extension table (extension characters take two septets: ESC + char);
 * otherwise it is UCS-2 (UTF-16 code units; characters outside the BMP, such as most emoji, take two).
 * One segment holds 160 septets / 70 units; a concatenated message spends 7 septets / 3 units per segment on
 * its header, leaving 153 / 67, and a character is never split across two segments.
 */

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsMeasure {
  encoding: SmsEncoding;
  /** Length in the encoding's units: septets for GSM-7 (extension characters count two), UTF-16 units for UCS-2. */
  characters: number;
  segments: number;
}

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '\f^{}\\[~]|€';

const BASIC = new Set(GSM_BASIC);
const EXTENSION = new Set(GSM_EXTENSION);

/** Septets per character, or null when the character is not in GSM-7. */
function septets(char: string): 1 | 2 | null {
  if (BASIC.has(char)) return 1;
  if (EXTENSION.has(char)) return 2;
  return null;
}

export function isGsm7(text: string): boolean {
  for (const char of text) if (septets(char) === null) return false;
  return true;
}

/** Fills segments greedily with units that must stay whole (an escape pair, a surrogate pair). */
function countSegments(units: number[], single: number, multi: number): number {
  const total = units.reduce((a, b) => a + b, 0);
  if (total <= single) return total === 0 ? 0 : 1;
  let segments = 1;
  let used = 0;
  for (const size of units) {
    if (used + size > multi) {
      segments++;
      used = 0;
    }
    used += size;
  }
  return segments;
}

export function measureSms(text: string): SmsMeasure {
  const chars = Array.from(text);
  if (isGsm7(text)) {
    const units = chars.map((c) => septets(c)!);
    return { encoding: 'GSM-7', characters: units.reduce((a, b) => a + b, 0), segments: countSegments(units, 160, 153) };
  }
  const units = chars.map((c) => c.length);
  return { encoding: 'UCS-2', characters: units.reduce((a, b) => a + b, 0), segments: countSegments(units, 70, 67) };
}
