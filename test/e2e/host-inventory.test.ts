/**
 * `host add|list|remove` with a real inventory file and real daemons: the lab
 * host, and a URI whose socket does not exist. host list asks each one through
 * its own virsh and says which answer.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
    expect(table.stdout).toMatch(/^lab\s+qemu\+unix:\S+\s+all-labs\s+role=test\s+yes\s+\d+\.\d+\.\d+\s+\d+%\s+\S+ \S+ of /m);
    expect(table.stdout).toMatch(/^gone\s+.*\s+no: Failed to connect socket/m);
    const rm = kvmctl(['host', 'remove', 'gone'], { uri: null, env });
    expect(rm.code).toBe(0);
    expect(readFileSync(env.KVMCTL_HOSTS, 'utf8')).not.toMatch(/gone/);
    expect(kvmctl(['host', 'remove', 'gone'], { uri: null, env }).code).toBe(3);
  });
});
