/** Where the hosts inventory lives, and what a migration address may be. */
import { describe, expect, it } from 'vitest';
import { inventoryPath, isAddress } from '../../../src/inventory/hosts-file.js';

describe('where the inventory lives', () => {
  it('KVMCTL_HOSTS, else XDG_CONFIG_HOME, else ~/.config', () => {
    expect(inventoryPath({ KVMCTL_HOSTS: '/x/h.yaml', XDG_CONFIG_HOME: '/c' })).toBe('/x/h.yaml');
    expect(inventoryPath({ XDG_CONFIG_HOME: '/c' })).toBe('/c/kvmctl/hosts.yaml');
    expect(inventoryPath({ HOME: '/home/ops' })).toBe('/home/ops/.config/kvmctl/hosts.yaml');
  });
});

describe('a migration address', () => {
  it.each(['10.0.0.11', 'fd00::11', '::1', 'kvm1', 'kvm1.example.net', 'rack-a.kvm2', '10.0.0.11.nip.io'])('%s is an address', (a) => {
    expect(isAddress(a)).toBe(true);
  });
  it.each(['10.0.0.256', '1.2.3', 'fd00:::1', 'kvm1..lan', '-kvm1', 'kvm1-', 'kvm_1', 'kvm1.lan.', '10.0.0.1/24', 'kvm 1', '', `${'a'.repeat(64)}.lan`])('%j is not', (a) => {
    expect(isAddress(a)).toBe(false);
  });
});
