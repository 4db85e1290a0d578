/** kvmctl net nat list over recorded firewalls (hosts.ts). */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { formatCommand } from '../../../../../src/exec/command.js';
import { AFTER } from './hosts.js';
import { runKvmctl } from '../../../../support/harness.js';

describe('net nat list', () => {
  it('lists every NAT rule with its owner, as kvmctl host does', async () => {
    const r = await runKvmctl(['net', 'nat', 'list', '-o', 'json'], new FakeRunner().stub(['iptables-save'], { stdout: AFTER }));
    expect(r.code).toBe(0);
    const rules = JSON.parse(r.out) as Array<{ chain: string; target: string; owner: string; comment?: string; source?: string; to?: string }>;
    expect(rules.map((x) => `${x.chain} ${x.target} ${x.owner} ${x.comment ?? '-'}`)).toEqual([
      'PREROUTING DNAT kvmctl kvmctl:fwd:udp-5300-5310',
      'PREROUTING DNAT kvmctl kvmctl:fwd:tcp-2222',
      'OUTPUT DNAT kvmctl kvmctl:fwd:udp-5300-5310',
      'OUTPUT DNAT kvmctl kvmctl:fwd:tcp-2222',
      'POSTROUTING MASQUERADE kvmctl kvmctl:nat:fxbr',
      'POSTROUTING MASQUERADE other -',
      'DOCKER DNAT docker -',
    ]);
    const table = await runKvmctl(['net', 'nat', 'list'], new FakeRunner().stub(['iptables-save'], { stdout: AFTER }));
    expect(table.out).toMatch(/^CHAIN\s+TARGET\s+PROTO\s+SOURCE\s+DESTINATION\s+OUT\s+TO\s+OWNER\s+TAG$/m);
    expect(table.out).toMatch(/^DOCKER\s+DNAT\s+tcp\s+-\s+:8080\s+-\s+172\.17\.0\.2:80\s+docker\s+-$/m);
    expect(formatCommand({ program: 'iptables-save', args: [] })).toBe(table.argvs[0]);
  });
});
