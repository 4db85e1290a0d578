/** The download progress line: bytes, percent, speed and time left. */
import { describe, expect, it } from 'vitest';
import { downloadProgressText } from '../../../src/images/progress.js';

describe('progress line', () => {
  it('shows bytes, percent, speed and time left', () => {
    expect(downloadProgressText('pulling d.qcow2', 50 * 2 ** 20, 200 * 2 ** 20, 10 * 2 ** 20)).toBe('pulling d.qcow2 25% 50.0 MiB of 200.0 MiB 10.0 MiB/s ETA 15s');
    expect(downloadProgressText('pulling d.qcow2', 0, 2 ** 30, 2 ** 20)).toMatch(/ETA 17m04s$/);
    expect(downloadProgressText('pulling d.qcow2', 5, undefined, 0)).toBe('pulling d.qcow2 5 B 0 B/s');
  });
});
