/** virsh argv for domains, and the parsers of virsh's domain output (recorded in the lab). */
import { describe, expect, it } from 'vitest';
import {
  domainCalls,
  firmwareValues,
  parseDominfo,
  parseDomifaddr,
  parseDomiflistMacs,
  parseDomstate,
  parseNodememstats,
  parseSnapshotList,
  stateKey,
} from '../../../src/libvirt/domain-commands.js';
import { parseDomainXml } from '../../../src/libvirt/domain-xml.js';
import { classifyVirshError } from '../../../src/libvirt/virsh.js';
import { NotFoundError, RefusedError } from '../../../src/errors.js';
import { recorded, URI } from '../../support/harness.js';
import { POOL_DIR } from '../../support/vm.js';

describe('domain argv', () => {
  it('names travel as --domain NAME, one argv element, whatever they contain', () => {
    for (const name of ['a;b', 'x y', '-x', "q'u", '--help']) {
      for (const cmd of [domainCalls.start(name), domainCalls.destroy(name), domainCalls.dumpxml(name), domainCalls.undefine(name)]) {
        const i = cmd.words.indexOf('--domain');
        expect(i).toBeGreaterThan(0);
        expect(cmd.words[i + 1]).toBe(name);
        expect(cmd.subject).toEqual({ kind: 'vm', name });
      }
    }
    // domstats takes names as positional words: after --, a leading '-' is not an option.
    expect(domainCalls.domstatsOne('-x', ['block']).words).toEqual(['domstats', '--raw', '--block', '--', '-x']);
  });

  it('marks what changes state, so --dry-run skips exactly those', () => {
    const writes = [
      domainCalls.define('w', '<domain/>'),
      domainCalls.undefine('w'),
      domainCalls.start('w'),
      domainCalls.shutdown('w'),
      domainCalls.destroy('w'),
      domainCalls.reboot('w'),
      domainCalls.suspend('w'),
      domainCalls.resume('w'),
      domainCalls.autostart('w', true),
      domainCalls.setvcpus('w', 2, { live: false, config: true }),
      domainCalls.setmem('w', 2 ** 30, { live: true, config: false }),
      domainCalls.setmaxmem('w', 2 ** 30),
      domainCalls.snapshotCreate('w', 's'),
      domainCalls.snapshotRevert('w', 's'),
      domainCalls.snapshotDelete('w', 's'),
    ];
    expect(writes.every((c) => c.mutates)).toBe(true);
    const reads = [domainCalls.dumpxml('w'), domainCalls.dominfo('w'), domainCalls.domstate('w'), domainCalls.domifaddr('w', 'lease'), domainCalls.console('w')];
    expect(reads.some((c) => c.mutates)).toBe(false);
  });

  it('defines from stdin and undefines with everything libvirt keeps beside a domain', () => {
    expect(domainCalls.define('w', '<domain/>')).toMatchObject({ words: ['define', '--file', '/dev/stdin'], input: '<domain/>' });
    expect(domainCalls.undefine('w').words).toEqual(['undefine', '--domain', 'w', '--nvram', '--snapshots-metadata', '--checkpoints-metadata', '--managed-save']);
    expect(domainCalls.shutdown('w').words).toEqual(['shutdown', '--domain', 'w', '--mode', 'acpi']);
    expect(domainCalls.autostart('w', false).words).toEqual(['autostart', '--domain', 'w', '--disable']);
  });

  it('sizes memory in KiB and scopes changes with --live/--config', () => {
    expect(domainCalls.setmem('w', 512 * 1024 ** 2, { live: true, config: true }).words).toEqual(['setmem', '--domain', 'w', '--size', '524288KiB', '--live', '--config']);
    expect(domainCalls.setmaxmem('w', 1024 ** 3).words).toEqual(['setmaxmem', '--domain', 'w', '--size', '1048576KiB', '--config']);
    expect(domainCalls.setvcpus('w', 4, { live: false, config: true }, true).words).toEqual(['setvcpus', '--domain', 'w', '--count', '4', '--maximum', '--config']);
    expect(domainCalls.snapshotCreate('w', 's1', 'before; upgrade').words).toEqual(['snapshot-create-as', '--domain', 'w', '--name', 's1', '--description', 'before; upgrade']);
  });
});

describe('parsers of recorded output', () => {
  it('dominfo of a running and a shut-off VM', () => {
    expect(parseDominfo(recorded('vm/virsh-dominfo-web.txt'))).toMatchObject({ state: 'running', persistent: true, autostart: false, maxMemoryBytes: 256 * 1024 ** 2, usedMemoryBytes: 256 * 1024 ** 2, vcpus: 1 });
    expect(parseDominfo(recorded('vm/virsh-dominfo-off.txt'))).toMatchObject({ state: 'shut off', vcpus: 2, maxMemoryBytes: 128 * 1024 ** 2 });
    expect(parseDominfo(recorded('vm/virsh-dominfo-web.txt')).uuid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('domstate --reason, in one word as domstats names states', () => {
    expect(parseDomstate(recorded('vm/virsh-domstate-web.txt'))).toEqual({ state: 'running', reason: 'booted' });
    const off = parseDomstate(recorded('vm/virsh-domstate-off.txt'));
    expect(off.state).toBe('shut off');
    expect(stateKey(off.state)).toBe('shutoff');
    expect(stateKey('in shutdown')).toBe('shutdown');
    expect(stateKey('paused')).toBe('paused');
  });

  it('domifaddr: addresses with prefix, continuation lines carry the interface', () => {
    expect(parseDomifaddr(recorded('vm/virsh-domifaddr-lease.txt'))).toEqual([
      { interface: expect.stringMatching(/^vnet\d+$/), mac: '52:54:00:f1:00:01', protocol: 'ipv4', address: expect.stringMatching(/^192\.168\.122\.\d+$/), prefix: 24 },
    ]);
    const agent = ' Name       MAC address          Protocol     Address\n-------------------------------------------------------------------------------\n lo         00:00:00:00:00:00    ipv4         127.0.0.1/8\n eth0       52:54:00:F1:00:01    ipv4         10.0.0.5/24\n -          -                    ipv6         fe80::5054:ff:fef1:1/64\n';
    expect(parseDomifaddr(agent).slice(1)).toEqual([
      { interface: 'eth0', mac: '52:54:00:f1:00:01', protocol: 'ipv4', address: '10.0.0.5', prefix: 24 },
      { interface: 'eth0', mac: '52:54:00:f1:00:01', protocol: 'ipv6', address: 'fe80::5054:ff:fef1:1', prefix: 64 },
    ]);
    expect(parseDomifaddr('')).toEqual([]);
  });

  it('snapshot-list --parent: ISO times, parents, names that need no quoting', () => {
    expect(parseSnapshotList(recorded('vm/virsh-snapshot-list-off.txt'))).toEqual([
      { name: 'snap1', createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/), state: 'shutoff' },
      { name: 'snap2', createdAt: expect.stringMatching(/Z$/), state: 'shutoff', parent: 'snap1' },
    ]);
    expect(parseSnapshotList(recorded('vm/virsh-snapshot-list-web.txt'))).toEqual([]);
    const spaced = ' Name           Creation Time               State     Parent\n------\n before upgrade   2026-11-25 01:08:02 +0100   running   my base\n';
    expect(parseSnapshotList(spaced)).toEqual([{ name: 'before upgrade', createdAt: '2026-11-25T00:08:02.000Z', state: 'running', parent: 'my base' }]);
  });

  it('nodememstats: free + buffers + cached is what a new guest can have', () => {
    const m = parseNodememstats(recorded('vm/virsh-nodememstats.txt'));
    expect(m.totalBytes).toBeGreaterThan(0);
    expect(m.availableBytes).toBeGreaterThan(0);
    expect(m.availableBytes).toBeLessThanOrEqual(m.totalBytes ?? 0);
  });

  it('domcapabilities: no UEFI firmware on the lab host', async () => {
    expect(await firmwareValues(recorded('vm/virsh-domcapabilities-qemu.xml'))).toEqual([]);
    const withOvmf = recorded('vm/virsh-domcapabilities-qemu.xml').replace("<enum name='firmware'/>", "<enum name='firmware'><value>efi</value></enum>");
    expect(await firmwareValues(withOvmf)).toEqual(['efi']);
  });

  it("reads kvmctl's metadata and the serial log of a VM it created", async () => {
    const def = await parseDomainXml(recorded('vm/virsh-dumpxml-web-inactive.xml'));
    expect(def.kvmctl).toEqual({ seed: { pool: 'fxvm-pool', volume: 'fxvm-web-seed.iso' } });
    expect(def.serialLogs).toEqual([`${POOL_DIR}/fxvm-web.serial.log`]);
    const live = await parseDomainXml(recorded('vm/virsh-dumpxml-web.xml'));
    expect(live.consoles?.[0]).toMatchObject({ kind: 'serial', type: 'pty', path: expect.stringMatching(/^\/dev\/pts\/\d+$/) });
    expect((await parseDomainXml(recorded('virsh-dumpxml-shutoff.xml'))).kvmctl).toBeUndefined();
  });
});

describe('virsh errors about domains', () => {
  const classify = (args: string[], stderr: string) => classifyVirshError({ program: 'virsh', args, mutates: false }, { stdout: '', stderr, exitCode: 1 }, { kind: 'vm', name: 'nosuch' }, URI);

  it("virsh 9's only line for a missing domain is not found (exit 3), naming it", () => {
    const err = classify(['domifaddr', '--domain', 'nosuch'], recorded('vm/err-virsh-domifaddr-nosuch.stderr'));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toMatch(/VM "nosuch" not found/);
  });

  it('an operation the state does not allow is refused (exit 5)', () => {
    expect(classify(['domifaddr'], recorded('vm/err-virsh-domifaddr-shutoff.stderr'))).toBeInstanceOf(RefusedError);
    expect(classify(['shutdown'], recorded('vm/err-virsh-shutdown-shutoff.stderr'))).toBeInstanceOf(RefusedError);
  });
});

describe('parseDomiflistMacs', () => {
  it('reads the MAC of each NIC of a running VM (recorded)', () => {
    expect(parseDomiflistMacs(recorded('vm/virsh-domiflist-web.txt'))).toEqual(['52:54:00:f1:00:01']);
  });

  it('takes the last word of each row whatever the other columns hold, lower case; header, rule and blank lines give nothing', () => {
    const text = [
      ' Interface   Type      Source          Model    MAC',
      '-------------------------------------------------------------',
      ' -           bridge    br lan          virtio   52:54:00:AA:BB:CC',
      ' vnet3       network   default         e1000    52:54:00:00:00:02',
      ' -           hostdev   -               -        -',
      '',
    ].join('\n');
    expect(parseDomiflistMacs(text)).toEqual(['52:54:00:aa:bb:cc', '52:54:00:00:00:02']);
  });

  it('an empty section (the VM went away between two calls) has no MACs', () => {
    expect(parseDomiflistMacs('')).toEqual([]);
  });
});
