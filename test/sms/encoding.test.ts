import { describe, expect, it } from 'vitest';
import { isGsm7, measureSms } from '../../src/sms/encoding.js';

describe('SMS encoding and segments', () => {
  it.each([
    ['a'.repeat(160), 'GSM-7', 160, 1],
    ['a'.repeat(161), 'GSM-7', 161, 2],
    ['a'.repeat(306), 'GSM-7', 306, 2],
    ['a'.repeat(307), 'GSM-7', 307, 3],
    ['€'.repeat(80), 'GSM-7', 160, 1], // extension characters count two
    ['€'.repeat(81), 'GSM-7', 162, 2],
    ['a' + '{'.repeat(76), 'GSM-7', 153, 1], // 153 septets still fit one segment
    ['a'.repeat(152) + '€' + 'a'.repeat(10), 'GSM-7', 164, 2], // an escape pair is not split: 152 | 2+10
    ['a'.repeat(152) + '€' + 'a'.repeat(152), 'GSM-7', 306, 3], // the pair moves to segment 2, which overflows
    // Every extension character at the GSM-7 boundaries: 9 characters, 18 septets, at the start.
    ['{}[]~\\|^€' + 'a'.repeat(142), 'GSM-7', 160, 1],
    ['{}[]~\\|^€' + 'a'.repeat(143), 'GSM-7', 161, 2],
    ['{}[]~\\|^€' + 'a'.repeat(288), 'GSM-7', 306, 2], // 18 + 135 | 153
    ['{}[]~\\|^€' + 'a'.repeat(289), 'GSM-7', 307, 3],
    ['€'.repeat(153), 'GSM-7', 306, 3], // 76 pairs (152 septets) per segment: 76 | 76 | 1
    ['é'.repeat(70), 'GSM-7', 70, 1], // é is in the basic table
    ['ж'.repeat(70), 'UCS-2', 70, 1],
    ['ж'.repeat(71), 'UCS-2', 71, 2],
    ['ж'.repeat(134), 'UCS-2', 134, 2],
    ['ж'.repeat(135), 'UCS-2', 135, 3],
    ['漢'.repeat(70), 'UCS-2', 70, 1],
    ['ع'.repeat(71), 'UCS-2', 71, 2],
    ['😀'.repeat(35), 'UCS-2', 70, 1], // surrogate pairs count two
    ['a'.repeat(69) + '😀', 'UCS-2', 71, 2],
    ['a'.repeat(132) + '😀', 'UCS-2', 134, 2], // 67 | 65 + pair
    ['a'.repeat(133) + '😀', 'UCS-2', 135, 3], // 67 | 66 | pair
    ['😀'.repeat(67), 'UCS-2', 134, 3], // 33 pairs (66 units) per segment: 33 | 33 | 1
    ['a'.repeat(68) + '😀', 'UCS-2', 70, 1],
    ['a'.repeat(66) + '😀' + 'a'.repeat(66), 'UCS-2', 134, 3], // the pair is not split: 66 | 2+65 | 1
    ['', 'GSM-7', 0, 0],
  ])('%#: %s.length=%s', (text, encoding, characters, segments) => {
    expect(measureSms(text)).toEqual({ encoding, characters, segments });
  });

  it('knows the GSM-7 tables', () => {
    expect(isGsm7('@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&\'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà^{}\\[~]|€')).toBe(true);
    expect(isGsm7('ç')).toBe(false); // lower-case ç is not in the table
    expect(isGsm7('`')).toBe(false);
  });
});
