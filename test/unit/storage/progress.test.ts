import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../src/exec/fake.js';
import { progressShown, progressText } from '../../../src/storage/progress.js';
import { testContext } from '../../support/harness.js';
import { GiB } from '../../support/storage.js';

describe('progress policy', () => {
  it('shows a bar only on a terminal, never with -o json, -q or --dry-run', () => {
    const r = new FakeRunner();
    expect(progressShown(testContext(r, { stderrIsTTY: true }).ctx)).toBe(true);
    expect(progressShown(testContext(r, { stderrIsTTY: false }).ctx)).toBe(false);
    expect(progressShown(testContext(r, { stderrIsTTY: true, output: 'json' }).ctx)).toBe(false);
    expect(progressShown(testContext(r, { stderrIsTTY: true, quiet: true }).ctx)).toBe(false);
    expect(progressShown(testContext(r, { stderrIsTTY: true, dryRun: true }).ctx)).toBe(false);
    expect(progressText('importing', 512 * 2 ** 20, 2 * GiB)).toBe('importing [######..................] 25% (512.0 MiB of about 2.0 GiB)');
    expect(progressText('importing', 3 * GiB, 2 * GiB)).toMatch(/ 99% /);
  });
});
