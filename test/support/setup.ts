/**
 * Unit-test setup: every FakeRunner a test made is verified after the test,
 * so a stub left unused (a command the code was expected to run and did not)
 * fails it without the test asking. A test file listed in LENIENT_FILES has
 * not yet been made to stub exactly what runs: its fakes are verified only
 * where the test calls verify() itself. The list shrinks to empty as each
 * area's tests are fixed; never add to it.
 */
import { afterEach, expect } from 'vitest';
import { FakeRunner } from '../../src/exec/fake.js';

export const LENIENT_FILES: readonly string[] = [
  // net, bridge, nat: stubs left unused
  'test/unit/bridge.test.ts',
  'test/unit/net-create.test.ts',
  'test/unit/net-nat.test.ts',
  // volume: stubs left unused
  'test/unit/volume-commands.test.ts',
];

afterEach(() => {
  const made = FakeRunner.drain();
  const file = (expect.getState().testPath ?? '').replace(/^.*?\/test\/unit\//, 'test/unit/');
  if (LENIENT_FILES.includes(file)) return;
  for (const runner of made) if (!runner.allowUnused) runner.verify();
});
