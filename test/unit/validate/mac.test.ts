import { describe, expect, it } from 'vitest';
import { normalizeMac, parseMac } from '../../../src/validate/mac.js';
import { usageError } from '../../support/usage-error.js';

describe('normalizeMac', () => {
  it('accepts only unicast MACs, in lower case', () => {
    expect(normalizeMac('52:54:00:AB:CD:EF')).toBe('52:54:00:ab:cd:ef');
    expect(normalizeMac('01:00:5e:00:00:01')).toBeUndefined();
    expect(normalizeMac('52:54:00:ab:cd')).toBeUndefined();
    expect(normalizeMac('52-54-00-ab-cd-ef')).toBeUndefined();
    expect(normalizeMac('00:00:00:00:00:00')).toBeUndefined();
  });
});

describe('MAC addresses', () => {
  it.each([
    ['52:54:00:12:34:56', '52:54:00:12:34:56'],
    ['52:54:00:AB:CD:EF', '52:54:00:ab:cd:ef'],
    ['02:00:00:00:00:01', '02:00:00:00:00:01'],
  ])('%j is a NIC address', (text, mac) => {
    expect(normalizeMac(text)).toBe(mac);
    expect(parseMac(text)).toBe(mac);
  });

  it.each(['zz:zz:zz:zz:zz:zz', '01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00', '52:54:00:12:34', '52:54:00:12:34:56:78', '52-54-00-12-34-56', '5254.0012.3456', '52:54:00:12:34:5g', ' 52:54:00:12:34:56', '52:54:00:12:34:56;x', ''])('%j is refused', (text) => {
    expect(normalizeMac(text)).toBeUndefined();
    expect(usageError(() => parseMac(text)).message).toContain('invalid MAC address');
  });
});
