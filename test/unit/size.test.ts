import { describe, expect, it } from 'vitest';
import { formatBytes, parseSize } from '../../src/units/size.js';
import { UsageError } from '../../src/errors.js';

describe('parseSize', () => {
  it.each([
    ['512M', 512 * 1024 ** 2],
    ['20G', 20 * 1024 ** 3],
    ['20GiB', 20 * 1024 ** 3],
    ['20gb', 20 * 1024 ** 3],
    ['1.5T', 1.5 * 1024 ** 4],
    ['4096', 4096],
    ['4096B', 4096],
    ['1k', 1024],
  ])('%s -> %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['0', '0G', '-1G', '10GG', 'G', '', ' ', '1.5.2G', '2E', '99999999999T', '1e3', 'NaN', '0x10'])('rejects %j as a usage error', (text) => {
    expect(() => parseSize(text, 'disk size')).toThrow(UsageError);
    expect(() => parseSize(text, 'disk size')).toThrow(/disk size/);
  });
});

describe('formatBytes', () => {
  it('uses binary units with one decimal', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(20 * 1024 ** 3)).toBe('20.0 GiB');
    expect(formatBytes(1536 * 1024)).toBe('1.5 MiB');
    expect(formatBytes(undefined)).toBeUndefined();
  });
});
