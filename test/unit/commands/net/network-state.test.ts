/** What net start, stop, autostart and delete share: a missing network. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { runKvmctl } from '../../../support/harness.js';

describe('net start | stop | autostart | delete', () => {
  it('a missing network is exit 3 for every verb', async () => {
    for (const verb of ['start', 'stop', 'autostart', 'delete']) {
      const runner = new FakeRunner().stub(
        (c) => c.args[2]?.startsWith("'net-info' '--network' 'nosuch'") ?? false,
        { stdout: 'KVMCTL-BATCH-SEPARATOR-d41d8cd9\n', stderr: "error: failed to get network 'nosuch'\nerror: Network not found: no network with matching name 'nosuch'\n" },
      );
      const r = await runKvmctl(['net', verb, 'nosuch'], runner);
      expect(r.code).toBe(3);
      expect(r.err).toContain('network "nosuch" not found');
      expect(r.changes).toEqual([]);
    }
  });
});
