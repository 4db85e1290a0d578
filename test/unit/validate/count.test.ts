/** Whole-number flags (src/validate/count.ts). */
import { describe, expect, it } from 'vitest';
import { countOption, parseCount } from '../../../src/validate/count.js';
import { usageError } from '../../support/usage-error.js';

describe('parseCount', () => {
  it.each([
    ['1', 1],
    ['4096', 4096],
    [' 8 ', 8],
  ])('count %j', (text, n) => {
    expect(parseCount(text, '--vcpus', 1, 4096)).toBe(n);
  });

  it.each(['0', '4097', '99999999', '-1', '1.5', '0x10', '1e3', '', 'one', '1;reboot', '9'.repeat(400)])('refuses --vcpus %j', (text) => {
    expect(usageError(() => parseCount(text, '--vcpus', 1, 4096)).message).toBe(`--vcpus ${JSON.stringify(text)}: expected a whole number from 1 to 4096`);
  });
});

describe('countOption', () => {
  it('a flag left out is the default (undefined without one); one given is parsed and checked like parseCount', () => {
    expect(countOption(undefined, '--lines', 1, 10)).toBeUndefined();
    expect(countOption(undefined, '--timeout', 0, 86_400, 60)).toBe(60);
    expect(countOption('0', '--timeout', 0, 86_400, 60)).toBe(0);
    expect(usageError(() => countOption('11', '--lines', 1, 10)).message).toBe('--lines "11": expected a whole number from 1 to 10');
  });
});
