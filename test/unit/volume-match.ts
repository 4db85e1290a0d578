/**
 * The volume XML kvmctl must feed `virsh vol-create` / `vol-create-from`, written
 * out by hand (independently of src/libvirt/volume-xml.ts), and FakeRunner
 * matchers for those calls: the argv alone no longer says which volume is made.
 */
import type { Command } from '../../src/exec/command.js';

export interface ExpectedVolume {
  name: string;
  capacityBytes: number;
  format: string;
  allocationBytes?: number;
  backing?: { path: string; format: string };
}

const text = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function volumeXml(v: ExpectedVolume): string {
  return [
    '<volume>',
    `  <name>${text(v.name)}</name>`,
    `  <capacity unit="bytes">${v.capacityBytes}</capacity>`,
    ...(v.allocationBytes === undefined ? [] : [`  <allocation unit="bytes">${v.allocationBytes}</allocation>`]),
    '  <target>',
    `    <format type="${v.format}"/>`,
    '  </target>',
    ...(v.backing ? ['  <backingStore>', `    <path>${text(v.backing.path)}</path>`, `    <format type="${v.backing.format}"/>`, '  </backingStore>'] : []),
    '</volume>',
    '',
  ].join('\n');
}

const sameArgs = (c: Command, args: string[]) => c.program === 'virsh' && c.args.length === args.length && c.args.every((a, i) => a === args[i]);

/** `virsh -c URI vol-create --pool POOL --file /dev/stdin` fed exactly this volume's XML. */
export function volCreate(uri: string, pool: string, v: ExpectedVolume): (c: Command) => boolean {
  return (c) => sameArgs(c, ['-c', uri, 'vol-create', '--pool', pool, '--file', '/dev/stdin']) && c.input === volumeXml(v);
}

/** A full copy of SOURCE within POOL (`vol-create-from`); sparse (allocation 0) unless the allocation is given, or given as undefined. */
export function volCopy(uri: string, pool: string, source: string, v: Omit<ExpectedVolume, 'backing'>): (c: Command) => boolean {
  const expected = volumeXml('allocationBytes' in v ? v : { ...v, allocationBytes: 0 });
  return (c) => sameArgs(c, ['-c', uri, 'vol-create-from', '--pool', pool, '--file', '/dev/stdin', '--inputpool', pool, '--vol', source]) && c.input === expected;
}

export const isVolCreate = (c: Command) => c.args.includes('vol-create');
