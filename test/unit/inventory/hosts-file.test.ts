/** Where the hosts inventory lives. */
import { describe, expect, it } from 'vitest';
import { inventoryPath } from '../../../src/inventory/hosts-file.js';

describe('where the inventory lives', () => {
  it('KVMCTL_HOSTS, else XDG_CONFIG_HOME, else ~/.config', () => {
    expect(inventoryPath({ KVMCTL_HOSTS: '/x/h.yaml', XDG_CONFIG_HOME: '/c' })).toBe('/x/h.yaml');
    expect(inventoryPath({ XDG_CONFIG_HOME: '/c' })).toBe('/c/kvmctl/hosts.yaml');
    expect(inventoryPath({ HOME: '/home/ops' })).toBe('/home/ops/.config/kvmctl/hosts.yaml');
  });
});
