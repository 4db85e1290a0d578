/** vm create --ssh-key/--ssh-user: what it records for vm ssh to read back. */
import { describe, expect, it } from 'vitest';

describe('vm create records how to log in', () => {
  it('--ssh-user without --ssh-key, or a bad one, is exit 2', async () => {
    const { parseCreateFlags } = await import('../../../../src/commands/vm/create-args.js');
    expect(() => parseCreateFlags('web1', { boot: 'kernel=/boot/vmlinuz', sshUser: 'debian' })).toThrow(/--ssh-user names the user --ssh-key is for/);
    expect(() => parseCreateFlags('web1', { boot: 'kernel=/boot/vmlinuz', sshKey: '/k.pub', sshUser: '-x' })).toThrow(/--ssh-user "-x": not a user name/);
    expect(parseCreateFlags('web1', { boot: 'kernel=/boot/vmlinuz', sshKey: '/k.pub', sshUser: 'debian' }).cloudInit).toMatchObject({ sshKeyFile: '/k.pub', sshUser: 'debian' });
  });

  it('the ssh login round-trips through kvmctl\'s <metadata> (what vm ssh reads back)', async () => {
    const { buildDomainXml } = await import('../../../../src/libvirt/domain-builder.js');
    const { domainFromNode } = await import('../../../../src/libvirt/domain-xml.js');
    const { decodeXml, encodeXml } = await import('../../../../src/libvirt/xml-codec.js');
    const spec = {
      name: 'web1', uuid: '6f1c3c0e-0000-4000-8000-000000000001', memoryBytes: 1024 ** 3, vcpus: 1, arch: 'x86_64', firmware: 'bios' as const,
      bootDevices: ['hd'], disks: [], interfaces: [], graphics: 'none' as const, serialLog: '/var/log/web1.serial.log', type: 'qemu' as const,
      metadata: { seed: { pool: 'p', volume: 'web1-seed.iso' }, ssh: { key: '/root/.ssh/id "x"&<y>', user: 'debian' } },
    };
    const xml = encodeXml(buildDomainXml(spec as never));
    expect(domainFromNode(await decodeXml(xml)).kvmctl).toEqual(spec.metadata);
  });
});
