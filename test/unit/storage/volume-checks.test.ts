import { describe, expect, it } from 'vitest';
import { nameForFormat } from '../../../src/storage/volume-checks.js';

describe('nameForFormat', () => {
  it('default names follow the target format', () => {
    expect(nameForFormat('debian-12.qcow2', 'qcow2', 'raw')).toBe('debian-12.raw');
    expect(nameForFormat('appliance.vmdk', 'vmdk', 'qcow2')).toBe('appliance.qcow2');
    expect(nameForFormat('disk', 'raw', 'qcow2')).toBe('disk.qcow2');
    expect(nameForFormat('disk.img', 'raw', 'raw')).toBe('disk.img');
  });
});
