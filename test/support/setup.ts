/**
 * Unit-test setup: every FakeRunner a test made is verified after the test,
 * so a stub left unused (a command the code was expected to run and did not)
 * fails it without the test asking. `new FakeRunner({ allowUnused: true })`
 * is for the tests that mean "any number of these".
 */
import { afterEach } from 'vitest';
import { FakeRunner } from '../../src/exec/fake.js';

afterEach(() => {
  for (const runner of FakeRunner.drain()) if (!runner.allowUnused) runner.verify();
});
