/** The NoCloud seed a clone gets (cloneSeedFiles). */
import { describe, expect, it } from 'vitest';
import { cloneSeedFiles } from '../../../src/libvirt/cloud-init.js';

describe("a clone's seed", () => {
  const src = {
    metaData: 'instance-id: "1111"\nlocal-hostname: "web1"\n',
    userData: '#cloud-config\nhostname: "web1"\nssh_authorized_keys:\n  - "ssh-ed25519 AAAA k"\n',
    networkConfig: 'version: 2\nethernets:\n  lan:\n    match:\n      macaddress: "52:54:00:12:34:56"\n    dhcp4: true\n',
  };

  it('new instance-id and host name, the same keys, the network config on the new MAC', () => {
    const f = cloneSeedFiles(src, { instanceId: '2222', hostname: 'web2', macs: [['52:54:00:12:34:56', '52:54:00:ab:cd:ef']] });
    expect(f.metaData).toBe('instance-id: "2222"\nlocal-hostname: "web2"\n');
    expect(f.userData).toBe('#cloud-config\nhostname: "web2"\nssh_authorized_keys:\n  - "ssh-ed25519 AAAA k"\n');
    expect(f.networkConfig).toBe(src.networkConfig.replace('52:54:00:12:34:56', '52:54:00:ab:cd:ef'));
  });

  it('user-data without a host name stays byte for byte; other meta-data keys stay; a MAC in upper case is moved too', () => {
    const f = cloneSeedFiles(
      { metaData: 'instance-id: x\nlocal-hostname: a\nplatform: lab\n', userData: '#cloud-config\npackages: [nginx]\n', networkConfig: 'macaddress: 52:54:00:AA:00:01\n' },
      { instanceId: 'y', hostname: 'b', macs: [['52:54:00:aa:00:01', '52:54:00:bb:00:02']] },
    );
    expect(f.metaData).toBe('instance-id: "y"\nlocal-hostname: "b"\nplatform: lab\n');
    expect(f.userData).toBe('#cloud-config\npackages: [nginx]\n');
    expect(f.networkConfig).toBe('macaddress: 52:54:00:bb:00:02\n');
  });
});
