import { describe, expect, it } from 'vitest';
import { normalizeMac } from '../../../src/validate/mac.js';

describe('normalizeMac', () => {
  it('accepts only unicast MACs, in lower case', () => {
    expect(normalizeMac('52:54:00:AB:CD:EF')).toBe('52:54:00:ab:cd:ef');
    expect(normalizeMac('01:00:5e:00:00:01')).toBeUndefined();
    expect(normalizeMac('52:54:00:ab:cd')).toBeUndefined();
    expect(normalizeMac('52-54-00-ab-cd-ef')).toBeUndefined();
    expect(normalizeMac('00:00:00:00:00:00')).toBeUndefined();
  });
});
