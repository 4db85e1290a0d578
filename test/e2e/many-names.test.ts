/** Many names per verb and --if-exists, the built CLI against the lab. */
import { afterAll, describe, expect, it } from 'vitest';
import { kvmctl, lab, virsh } from './lab.js';
import { parseJsonError, parseOutput } from '../support/schemas.js';

const POOL = 'mnpool';
const dir = () => `${lab.dir}/pools/${POOL}`;

describe('many names', () => {
  afterAll(() => {
    virsh('pool-destroy', POOL);
    virsh('pool-undefine', POOL);
  });

  it('volume delete of three with one absent: exit 3, the others deleted, one element per name', () => {
    expect(kvmctl(['pool', 'create', POOL, '--type', 'dir', '--path', dir()]).code).toBe(0);
    for (const v of ['a.qcow2', 'c.qcow2']) expect(kvmctl(['volume', 'create', v, '--pool', POOL, '--size', '1M']).code).toBe(0);
    const args = ['volume', 'delete', `${POOL}/a.qcow2`, `${POOL}/b.qcow2`, `${POOL}/c.qcow2`];
    const r = kvmctl([...args, '-o', 'json']);
    expect(r.code).toBe(3);
    const out = parseOutput<any[]>(args, r.stdout);
    expect(out.map((o) => o.name)).toEqual(['a.qcow2', `${POOL}/b.qcow2`, 'c.qcow2']);
    expect(out[1]).toMatchObject({ changed: false, error: { code: 'not-found', exit: 3, object: { kind: 'volume', name: `${POOL}/b.qcow2` } } });
    expect(parseJsonError(r.stderr).error.code).toBe('not-found');
    expect(virsh('vol-list', POOL).stdout).not.toMatch(/[ac]\.qcow2/);
  });

  it('--parallel is refused (exit 2) for volume delete, nothing deleted', () => {
    expect(kvmctl(['volume', 'create', 'd.qcow2', '--pool', POOL, '--size', '1M']).code).toBe(0);
    const r = kvmctl(['--parallel', '2', 'volume', 'delete', `${POOL}/d.qcow2`, `${POOL}/e.qcow2`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--parallel does not apply to volume delete with several names');
    expect(virsh('vol-list', POOL).stdout).toContain('d.qcow2');
  });

  it('--if-exists: absent is exit 0 changed false, present is deleted', () => {
    const args = ['volume', 'delete', `${POOL}/d.qcow2`, `${POOL}/gone.qcow2`, '--if-exists'];
    const r = kvmctl([...args, '-o', 'json']);
    expect(r.code).toBe(0);
    const out = parseOutput<any[]>(args, r.stdout);
    expect(out[1]).toEqual({ changed: false, pool: POOL, name: 'gone.qcow2' });
    expect(virsh('vol-list', POOL).stdout).not.toContain('d.qcow2');
  });

  it('--if-exists hides no other error: a missing pool stays exit 3', () => {
    const r = kvmctl(['volume', 'delete', 'nosuchpool/x.qcow2', '--if-exists']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('storage pool "nosuchpool" not found');
  });

  it('pool stop and start of two pools, --parallel 2, one absent: exit 3, the other done', () => {
    const r = kvmctl(['--parallel', '2', 'pool', 'stop', POOL, 'nopool']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`storage pool ${POOL} stopped`);
    expect(r.stderr).toContain('storage pool "nopool" not found');
    expect(virsh('pool-info', POOL).stdout).toMatch(/State:\s+inactive/);
    expect(kvmctl(['pool', 'start', POOL]).code).toBe(0);
  });

  it('pool stop and start -o json of a pool and an absent one: exit 3, one element per name', () => {
    for (const [verb, state] of [['stop', 'inactive'], ['start', 'active']] as const) {
      const args = ['pool', verb, POOL, 'nopool'];
      const r = kvmctl([...args, '-o', 'json']);
      expect(r.code).toBe(3);
      const out = parseOutput<any[]>(args, r.stdout);
      expect(out[0]).toMatchObject({ changed: true, name: POOL, state });
      expect(out[1]).toMatchObject({ name: 'nopool', changed: false, error: { code: 'not-found', exit: 3, object: { kind: 'pool', name: 'nopool' } } });
      expect(virsh('pool-info', POOL).stdout).toMatch(new RegExp(`State:\\s+${state === 'active' ? 'running' : 'inactive'}`));
    }
  });

  it('net nat disable of a bridge without kvmctl NAT is exit 3; --if-exists exit 0', () => {
    const r = kvmctl(['net', 'nat', 'disable', '--bridge', 'nonatbr']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('NAT on nonatbr was not enabled by kvmctl');
    expect(kvmctl(['net', 'nat', 'disable', '--bridge', 'nonatbr', '--if-exists']).code).toBe(0);
  });
});
