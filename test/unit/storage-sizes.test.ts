import { describe, expect, it } from 'vitest';
import { parseSize } from '../../src/units/size.js';
import { newCapacity, parseSizeChange } from '../../src/commands/volume/resize.js';

describe('sizes for volumes', () => {
  it.each([
    ['512M', 512 * 2 ** 20],
    ['20G', 20 * 2 ** 30],
    ['1.5T', 1.5 * 2 ** 40],
    ['20GiB', 20 * 2 ** 30],
    ['4096', 4096],
  ])('%s is %i bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['1.5', '1.5b', '0', '-1G', '10GG', '99999P'])('%j is exit 2', (text) => {
    expect(() => parseSize(text)).toThrow(expect.objectContaining({ exitCode: 2 }));
  });

  it('resize takes +growth; the result is rounded up to whole sectors and capped at 1 EiB', () => {
    expect(newCapacity(2 ** 30, parseSizeChange('+5G'))).toBe(6 * 2 ** 30);
    expect(newCapacity(0, parseSizeChange('1000'))).toBe(1024);
    expect(() => newCapacity(2 ** 60, parseSizeChange('+1G'))).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});
