/** What vm snapshot's verbs read first, answered with the recorded snapshots of fxvm-off. */
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { recorded, stubBatch } from '../../../../support/harness.js';

export const SNAP_READS = (name: string) => [['dominfo', '--domain', name], ['snapshot-list', '--domain', name, '--parent'], ['snapshot-current', '--domain', name, '--name']];

export function offSnapshots(runner = new FakeRunner()): FakeRunner {
  return stubBatch(runner, SNAP_READS('fxvm-off'), [recorded('vm/virsh-dominfo-off.txt'), recorded('vm/virsh-snapshot-list-off.txt'), recorded('vm/virsh-snapshot-current-off.txt')]);
}
