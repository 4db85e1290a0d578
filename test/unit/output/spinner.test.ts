/** When a spinner is drawn, and what its line says: the text, the time so far, a count. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../src/exec/fake.js';
import { countLine, formatElapsed, spinnerLine, spinnerShown, withSpinner } from '../../../src/output/spinner.js';
import { testContext } from '../../support/harness.js';

const ctxOf = (o: Parameters<typeof testContext>[1]) => testContext(new FakeRunner(), o).ctx;

describe('spinner policy', () => {
  it('drawn only on a terminal stderr that reports its width', () => {
    expect(spinnerShown(ctxOf({ stderrIsTTY: true }), 80)).toBe(true);
    expect(spinnerShown(ctxOf({ stderrIsTTY: false }), 80)).toBe(false);
    // script(1) on an unsized pty: a terminal of width 0.
    expect(spinnerShown(ctxOf({ stderrIsTTY: true }), 0)).toBe(false);
    expect(spinnerShown(ctxOf({ stderrIsTTY: true }), undefined)).toBe(false);
  });

  it('never with -q, -o json or --dry-run, even on a terminal', () => {
    expect(spinnerShown(ctxOf({ stderrIsTTY: true, quiet: true }), 80)).toBe(false);
    expect(spinnerShown(ctxOf({ stderrIsTTY: true, output: 'json' }), 80)).toBe(false);
    expect(spinnerShown(ctxOf({ stderrIsTTY: true, dryRun: true }), 80)).toBe(false);
  });

  it('without a spinner the work runs as it is and its updates go nowhere', async () => {
    const { ctx, io } = testContext(new FakeRunner(), { stderrIsTTY: false });
    const r = await withSpinner(ctx, 'waiting for VM "w" to be running', async (update) => {
      update('waiting for VM "w" to be running: it is shutoff');
      return 42;
    });
    expect(r).toBe(42);
    expect(io.err).toBe('');
  });
});

describe('spinner line', () => {
  it('the time so far: seconds, then minutes and seconds', () => {
    expect(formatElapsed(0)).toBe('0 s');
    expect(formatElapsed(59_999)).toBe('59 s');
    expect(formatElapsed(60_000)).toBe('1 min 00 s');
    expect(formatElapsed(3_725_000)).toBe('62 min 05 s');
    expect(spinnerLine('waiting for VM "w" to get an IP address', 12_400)).toBe('waiting for VM "w" to get an IP address (12 s)');
  });

  it('a count of a long loop: done of total', () => {
    expect(countLine('deleting the volumes of storage pool p', 250, 1000)).toBe('deleting the volumes of storage pool p: 250 of 1000');
  });
});
