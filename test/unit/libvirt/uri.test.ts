/** Which libvirt URIs name this machine, and what a URI says (transport, user, host, port, socket). */
import { describe, expect, it } from 'vitest';
import { isLocalUri, parseLibvirtUri } from '../../../src/libvirt/uri.js';

describe('libvirt URIs: which are this machine', () => {
  it.each([
    ['qemu:///system', true],
    ['qemu:///session', true],
    ['qemu+unix:///system?socket=/var/tmp/kvmctl-lab/x/run/libvirt-sock', true],
    ['test:///default', true],
    ['qemu+ssh://root@kvm1/system', false],
    ['qemu+ssh:///system', false],
    ['qemu+tcp://10.0.0.5/system', false],
    ['qemu://kvm1.example/system', false],
    ['qemu+tls://kvm1:16514/system', false],
    ['qemu+libssh2://kvm1/system', false],
  ])('%s local=%s', (uri, local) => {
    expect(isLocalUri(uri)).toBe(local);
  });

  it('parses user, host, port, IPv6 literals and parameters', () => {
    expect(parseLibvirtUri('qemu+ssh://ops@[fd00::5]:2200/system?keyfile=/k&no_verify=1')).toMatchObject({
      driver: 'qemu',
      transport: 'ssh',
      user: 'ops',
      host: 'fd00::5',
      port: '2200',
      path: '/system',
    });
  });
});
