/**
 * `host add|list|remove` with a real inventory file and real daemons: the lab
 * host, and a URI whose socket does not exist. host list asks each one through
 * its own virsh and says which answer. Without KVMCTL_HOSTS the file is
 * $XDG_CONFIG_HOME/kvmctl/hosts.yaml (a folder of the test's own); KVMCTL_HOSTS
 * wins over it. A migration address is kept in the file and shown by host list.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kvmctl, lab, virsh } from './lab.js';
import { parseOutput } from '../support/schemas.js';

const dir = mkdtempSync(join(tmpdir(), 'kvmctl-e2e-hosts-'));
const env = { KVMCTL_HOSTS: join(dir, 'hosts.yaml') };
const gone = `qemu+unix:///system?socket=${lab.dir}/run/no-such-sock`;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the hosts inventory against the lab', () => {
  it('adds hosts, lists which answer with their libvirt version and load, and removes one', () => {
    expect(kvmctl(['host', 'add', 'lab', '--uri', lab.uri, '--label', 'role=test', '--group', 'all-labs'], { uri: null, env }).code).toBe(0);
    expect(kvmctl(['host', 'add', 'gone', '--uri', gone, '--group', 'all-labs'], { uri: null, env }).code).toBe(0);
    const r = kvmctl(['host', 'list', '-o', 'json'], { uri: null, env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [labHost, goneHost] = parseOutput(['host', 'list'], r.stdout);
    const daemon = /Running against daemon:\s*(\S+)/.exec(virsh('version', '--daemon').stdout)?.[1];
    expect(labHost).toMatchObject({ name: 'lab', uri: lab.uri, answers: true, libvirtVersion: daemon, labels: { role: 'test' }, groups: ['all-labs'] });
    expect(labHost.cpuUsedPercent).toBeGreaterThanOrEqual(0);
    expect(labHost.memoryFreeBytes).toBeLessThanOrEqual(labHost.memoryTotalBytes);
    expect(goneHost).toMatchObject({ name: 'gone', answers: false, error: expect.stringMatching(/no-such-sock.*No such file or directory/) });
    const table = kvmctl(['host', 'list'], { uri: null, env });
    expect(table.stdout).toMatch(/^lab\s+qemu\+unix:\S+\s+all-labs\s+role=test\s+-\s+yes\s+\d+\.\d+\.\d+\s+\d+%\s+\S+ \S+ of /m);
    expect(table.stdout).toMatch(/^gone\s+.*\s+no: Failed to connect socket/m);
    const rm = kvmctl(['host', 'remove', 'gone'], { uri: null, env });
    expect(rm.code).toBe(0);
    expect(readFileSync(env.KVMCTL_HOSTS, 'utf8')).not.toMatch(/gone/);
    expect(kvmctl(['host', 'remove', 'gone'], { uri: null, env }).code).toBe(3);
  });
});

describe('the default inventory: $XDG_CONFIG_HOME/kvmctl/hosts.yaml', () => {
  const xdg = join(dir, 'xdg');
  const file = join(xdg, 'kvmctl', 'hosts.yaml');
  // KVMCTL_HOSTS empty counts as not set: the caller's own never leaks in.
  const xdgEnv = { KVMCTL_HOSTS: '', XDG_CONFIG_HOME: xdg };
  const other = join(dir, 'other.yaml');

  it('host add makes it (folder and file, mode 0600, block YAML); host list and -H read it; host remove edits it', () => {
    expect(existsSync(xdg)).toBe(false);
    const add = kvmctl(['host', 'add', 'lab', '--uri', lab.uri, '--group', 'labs'], { uri: null, env: xdgEnv });
    expect(add.stderr).toBe('');
    expect(add).toMatchObject({ code: 0, stdout: `host lab added to ${file}\n` });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe(`hosts:\n  lab:\n    uri: ${lab.uri}\ngroups:\n  labs:\n    - lab\n`);
    expect(kvmctl(['host', 'add', 'gone', '--uri', gone], { uri: null, env: xdgEnv }).code).toBe(0);
    const list = kvmctl(['host', 'list', '-o', 'json'], { uri: null, env: xdgEnv });
    expect(list.code).toBe(0);
    expect(parseOutput(['host', 'list'], list.stdout).map((h: { name: string; answers: boolean }) => [h.name, h.answers])).toEqual([['lab', true], ['gone', false]]);
    const fan = kvmctl(['-H', '@labs', 'net', 'list', '-o', 'json'], { uri: null, env: xdgEnv });
    expect(fan.code).toBe(0);
    expect(parseOutput(['-H', '@labs', 'net', 'list'], fan.stdout).hosts).toEqual([{ host: 'lab', ok: true, error: null }]);
    const rm = kvmctl(['host', 'remove', 'gone'], { uri: null, env: xdgEnv });
    expect(rm).toMatchObject({ code: 0, stdout: `host gone removed from ${file} (nothing on the host was changed)\n` });
    expect(readFileSync(file, 'utf8')).toBe(`hosts:\n  lab:\n    uri: ${lab.uri}\ngroups:\n  labs:\n    - lab\n`);
  });

  it('KVMCTL_HOSTS wins over it: list, -H and add use that file, and the default one is left as it was', () => {
    const before = readFileSync(file, 'utf8');
    writeFileSync(other, `hosts:\n  elsewhere:\n    uri: "${gone}"\n`);
    const both = { ...xdgEnv, KVMCTL_HOSTS: other };
    const list = kvmctl(['host', 'list', '--no-probe', '-o', 'json'], { uri: null, env: both });
    expect(list.code).toBe(0);
    expect(parseOutput(['host', 'list'], list.stdout).map((h: { name: string }) => h.name)).toEqual(['elsewhere']);
    const fan = kvmctl(['-H', 'lab', 'vm', 'list'], { uri: null, env: both });
    expect(fan.code).toBe(3);
    expect(fan.stderr).toBe(`kvmctl: error: no host "lab" in ${other}\nhint: list them with: kvmctl host list; add one with: kvmctl host add NAME --uri URI\n`);
    expect(kvmctl(['host', 'add', 'second', '--uri', lab.uri], { uri: null, env: both }).stdout).toBe(`host second added to ${other}\n`);
    expect(readFileSync(other, 'utf8')).toContain(`  second:\n    uri: ${lab.uri}\n`);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('host remove of a name the file lacks is exit 3 naming the file; nothing changes', () => {
    const before = readFileSync(file, 'utf8');
    const r = kvmctl(['host', 'remove', 'second'], { uri: null, env: xdgEnv });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`kvmctl: error: host second is not in ${file}\nhint: list them with: kvmctl host list\n`);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
});

describe('a migration address', () => {
  const file = join(dir, 'mig.yaml');
  const env = { KVMCTL_HOSTS: file };

  it('--migration-address is kept in the file and shown by host list, in the table and in JSON', () => {
    for (const [name, addr] of [['m4', '10.77.9.2'], ['m6', 'fd00:77::2'], ['mn', 'kvm-m.example.net']] as const) {
      const r = kvmctl(['host', 'add', name, '--uri', lab.uri, '--migration-address', addr, '-o', 'json'], { uri: null, env });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ changed: true, name, migrationAddress: addr });
    }
    expect(kvmctl(['host', 'add', 'plain', '--uri', lab.uri], { uri: null, env }).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain(`  m4:\n    uri: ${lab.uri}\n    migrationAddress: 10.77.9.2\n`);
    const json = kvmctl(['host', 'list', '-o', 'json'], { uri: null, env });
    expect(json.code).toBe(0);
    expect(parseOutput(['host', 'list'], json.stdout).map((h: { name: string; migrationAddress: string | null; answers: boolean }) => [h.name, h.migrationAddress, h.answers])).toEqual([
      ['m4', '10.77.9.2', true],
      ['m6', 'fd00:77::2', true],
      ['mn', 'kvm-m.example.net', true],
      ['plain', null, true],
    ]);
    const table = kvmctl(['host', 'list', '--no-probe'], { uri: null, env });
    expect(table.stdout).toMatch(/^NAME\s+URI\s+GROUPS\s+LABELS\s+MIGRATION\s+ANSWERS\s/);
    expect(table.stdout).toMatch(/^m4\s+qemu\+unix:\S+\s+-\s+-\s+10\.77\.9\.2\s+-/m);
    expect(table.stdout).toMatch(/^m6\s+qemu\+unix:\S+\s+-\s+-\s+fd00:77::2\s+-/m);
    expect(table.stdout).toMatch(/^plain\s+qemu\+unix:\S+\s+-\s+-\s+-\s+-/m);
    // The same again is unchanged.
    expect(kvmctl(['host', 'add', 'm4', '--uri', lab.uri, '--migration-address', '10.77.9.2'], { uri: null, env })).toMatchObject({ code: 0, stdout: 'host m4 unchanged\n' });
  });

  it.each([
    ['10.0.0.256', 'not an IPv4 or IPv6 address or a host name'],
    ['fd00:::2', 'not an IPv4 or IPv6 address or a host name'],
    ['10.0.0.1/24', 'not an IPv4 or IPv6 address or a host name'],
    ['kvm1;reboot', 'not an IPv4 or IPv6 address or a host name'],
    ['-kvm1', 'not an IPv4 or IPv6 address or a host name'],
  ])('a bad address (%s) is exit 2 naming it; the file is unchanged', (addr, why) => {
    const before = readFileSync(file, 'utf8');
    const r = kvmctl(['host', 'add', 'bad', '--uri', lab.uri, '--migration-address', addr], { uri: null, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`kvmctl: error: invalid migration address ${JSON.stringify(addr)}: ${why}\nhint: use an IP address or a host name, e.g. 10.0.0.11, fd00::11 or kvm1.example.net\n`);
    expect(r.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('another address for a host already there is exit 4 naming the one it has; the file is unchanged', () => {
    const before = readFileSync(file, 'utf8');
    const r = kvmctl(['host', 'add', 'm4', '--uri', lab.uri, '--migration-address', '10.77.9.3'], { uri: null, env });
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(`kvmctl: error: host m4 is already in ${file} with migration address 10.77.9.2\nhint: remove it first (kvmctl host remove m4), or add it under another name\n`);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
});
