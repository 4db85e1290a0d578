/**
 * The host as recorded for vm delete --remove-storage and vm start's base-image
 * check: every domain with its XML, the pool fxvm-pool and its volumes.
 */
import { FakeRunner } from '../../../../src/exec/fake.js';
import { recorded, stubBatch } from '../../../support/harness.js';
import { poolWords, recordedPoolOutputs } from '../../../support/vm.js';

/** vol-dumpxml of fxvm-off-vdb.qcow2: the recorded fxvm-off.qcow2 renamed, without a backing file (it was made empty). */
export function vdbVolumeXml(): string {
  return recorded('vm/virsh-vol-dumpxml-by-path.xml')
    .replace(/fxvm-off\.qcow2/g, 'fxvm-off-vdb.qcow2')
    .replace(/<backingStore>[\s\S]*<\/backingStore>\n/, '');
}

/** The reads of delete --remove-storage: every domain, every pool and volume. */
export function stubInventory(runner: FakeRunner, o: { webBacking?: string } = {}): FakeRunner {
  // loadDomains reads only state.* of the recorded full stats.
  stubBatch(runner, [['domstats', '--raw', '--state'], ['list', '--all', '--autostart', '--name']], [recorded('vm/virsh-domstats-list.txt'), recorded('vm/virsh-list-all-autostart-name.txt')]);
  stubBatch(
    runner,
    [['dumpxml', '--domain', 'fxvm odd;name'], ['dumpxml', '--domain', 'fxvm-web'], ['dumpxml', '--domain', 'fxvm-off']],
    [recorded('vm/virsh-dumpxml-odd-inactive.xml'), recorded('vm/virsh-dumpxml-web.xml'), recorded('vm/virsh-dumpxml-off-inactive.xml')],
  );
  stubBatch(runner, [['pool-list', '--all', '--name']], ['fxvm-pool\n']);
  stubBatch(runner, poolWords('fxvm-pool'), recordedPoolOutputs());
  return stubBatch(
    runner,
    ['base.qcow2', 'fxvm-off-vdb.qcow2', 'fxvm-off.qcow2', 'fxvm-web-seed.iso', 'fxvm-web.qcow2'].map((v) => ['vol-dumpxml', '--pool', 'fxvm-pool', '--vol', v]),
    [
      recorded('vm/virsh-vol-dumpxml-base.xml'),
      vdbVolumeXml(),
      recorded('vm/virsh-vol-dumpxml-by-path.xml'),
      recorded('vm/virsh-vol-dumpxml-seed.xml'),
      o.webBacking === undefined ? recorded('vm/virsh-vol-dumpxml-overlay.xml') : recorded('vm/virsh-vol-dumpxml-overlay.xml').replace(/(<backingStore>\s*<path>)[^<]*/, `$1${o.webBacking}`),
    ],
  );
}
