/** Human sizes and libvirt's size units (src/units/size.ts). */
import { describe, expect, it } from 'vitest';
import { formatBytes, libvirtUnitFactor, MAX_SIZE_BYTES, parseSize } from '../../../src/units/size.js';
import { usageError } from '../../support/usage-error.js';

describe('formatBytes', () => {
  it('uses binary units with one decimal', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(20 * 1024 ** 3)).toBe('20.0 GiB');
    expect(formatBytes(1536 * 1024)).toBe('1.5 MiB');
    expect(formatBytes(undefined)).toBeUndefined();
  });
});

describe('parseSize', () => {
  it.each([
    ['512M', 512 * 1024 ** 2],
    ['20G', 20 * 1024 ** 3],
    ['1.5T', 1.5 * 1024 ** 4],
    ['20GiB', 20 * 1024 ** 3],
    ['20gb', 20 * 1024 ** 3],
    ['4096', 4096],
    ['4096b', 4096],
    ['4096B', 4096],
    ['1k', 1024],
    ['1024P', 2 ** 60],
  ])('%j is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['0', '0G', '-5G', '+5G', '1e30', '1e3', 'NaN', 'Infinity', '', 'G', '5Q', '5 G B', '0x10', '1,5G', '1.5', '1025P', '99999999T', '5G;reboot', '١٢', '10 G', ' 1G ', '1G ', '-1G', '10GG', ' ', '1.5.2G', '2E', '99999999999T', '1.5b', '99999P'])('refuses size %j', (text) => {
    const e = usageError(() => parseSize(text, '--size'));
    expect(e.message).toContain(`invalid --size ${JSON.stringify(text)}`);
  });

  it('the largest size is 1 EiB', () => {
    expect(MAX_SIZE_BYTES).toBe(2 ** 60);
  });

  it('a size with white space says so; range errors state the range', () => {
    expect(usageError(() => parseSize('10 G', '--size')).message).toBe('invalid --size "10 G": it contains white space');
    expect(usageError(() => parseSize('0', '--size')).message).toBe('invalid --size "0": must be greater than zero (sizes go from 1 byte to 1 EiB)');
    expect(usageError(() => parseSize('2048P', '--size')).message).toBe('invalid --size "2048P": larger than 1 EiB (sizes go from 1 byte to 1 EiB)');
  });
});

describe('libvirtUnitFactor', () => {
  it.each([
    ['KiB', 1024],
    ['k', 1024],
    ['KB', 1000],
    ['bytes', 1],
    ['B', 1],
    ['MiB', 1024 ** 2],
    ['mb', 1e6],
    ['GiB', 1024 ** 3],
    ['TB', 1e12],
  ])('%s is %d bytes', (unit, bytes) => {
    expect(libvirtUnitFactor(unit)).toBe(bytes);
  });

  it('says nothing of a unit it does not know (the reader picks the default)', () => {
    expect(libvirtUnitFactor('furlong')).toBeUndefined();
  });
});
