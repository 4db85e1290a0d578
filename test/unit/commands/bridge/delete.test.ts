/** kvmctl bridge delete over a recorded namespace and lab (hosts.ts). */
import { describe, expect, it } from 'vitest';
import { VNET, ns, lab } from './hosts.js';
import { runKvmctl } from '../../../support/harness.js';
import { stubLoadDomains, stubLoadNetworks } from '../../../support/net.js';

describe('bridge delete', () => {
  it('is refused while ports use it, unless --force', async () => {
    const r = await runKvmctl(['bridge', 'delete', 'fxbr'], ns());
    expect(r.code).toBe(5);
    expect(r.err).toContain('kvmctl: error: bridge fxbr is in use: ports fxcl\nhint: detach them first, or delete it anyway with: kvmctl bridge delete fxbr --force\n');
    expect(r.changes).toEqual([]);
    const forced = await runKvmctl(['bridge', 'delete', 'fxbr', '--force'], ns().stub(['ip', 'link', 'delete', 'dev', 'fxbr'], {}));
    expect(forced.code).toBe(0);
    expect(forced.out).toBe('bridge fxbr deleted (it was used by ports fxcl)\n');
  });

  it('is never done while a running VM is attached, even with --force', async () => {
    const r = await runKvmctl(['bridge', 'delete', 'virbr1', '--force'], lab());
    expect(r.code).toBe(5);
    expect(r.err).toContain(`bridge virbr1 has running VM interfaces attached: fxn-vm1 (${VNET})`);
    expect(r.changes).toEqual([]);
  });

  it('is refused while a libvirt network uses it', async () => {
    const runner = stubLoadDomains(stubLoadNetworks(lab(), { leases: false }));
    const r = await runKvmctl(['bridge', 'delete', 'virbr0'], runner);
    expect(r.code).toBe(5);
    expect(r.err).toContain('bridge virbr0 is in use: libvirt network(s) default');
    expect(r.changes).toEqual([]);
  });

  it('is refused while it carries the default route; a missing bridge is exit 3', async () => {
    const r = await runKvmctl(['bridge', 'delete', 'fxbr', '--force'], ns(true));
    expect(r.code).toBe(5);
    expect(r.err).toBe('kvmctl: error: bridge fxbr carries the default route: deleting it cuts this host off\nhint: move its addresses back first: kvmctl bridge detach fxbr fxup --move-address\n');
    const missing = await runKvmctl(['bridge', 'delete', 'br9'], ns());
    expect(missing.code).toBe(3);
    expect(missing.err).toContain('bridge "br9" not found');
  });
});
