/** vm log: the serial log file vm create configures. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../src/exec/fake.js';
import { SHUTOFF, STATE } from './vm-states.js';
import { parseOutput } from '../../../support/schemas.js';
import { recorded, runKvmctl, virshArgv } from '../../../support/harness.js';
import { POOL_DIR } from '../../../support/vm.js';

describe('vm log', () => {
  const DUMP = virshArgv('dumpxml', '--domain', 'fxvm-web', '--inactive');
  const LOG = `${POOL_DIR}/fxvm-web.serial.log`;

  it('prints what the guest wrote, CRLF made LF; --lines keeps the end', async () => {
    const runner = new FakeRunner().stub(DUMP, { stdout: recorded('vm/virsh-dumpxml-web-inactive.xml') }, 2);
    const text = recorded('vm/serial-log-web.txt');
    expect(text).toContain('\r\n');
    const all = await runKvmctl(['vm', 'log', 'fxvm-web'], runner, { files: { [LOG]: text } });
    expect(all.out).toContain('KVMCTL-GUEST-BOOTED\n');
    expect(all.out).not.toContain('\r');
    const tail = await runKvmctl(['vm', 'log', 'fxvm-web', '--lines', '1', '-o', 'json'], runner, { files: { [LOG]: text } });
    expect(parseOutput(['vm', 'log', 'fxvm-web'], tail.out)).toEqual({ name: 'fxvm-web', file: LOG, lines: [expect.stringMatching(/^KVMCTL-GUEST-IP eth0 192\.168\.122\.\d+$/)] });
  });

  it('before the first start: nothing yet, said on stderr; exit 0', async () => {
    const runner = new FakeRunner().stub(DUMP, { stdout: recorded('vm/virsh-dumpxml-web-inactive.xml') }).stub(STATE('fxvm-web'), SHUTOFF);
    const r = await runKvmctl(['vm', 'log', 'fxvm-web'], runner);
    expect([r.code, r.out]).toEqual([0, '']);
    expect(r.err).toMatch(/no output yet: .*fxvm-web\.serial\.log is created when VM fxvm-web starts \(it is shutoff\)/);
  });

  it('of a VM without a serial log file, or over a remote URI, is exit 5 with what to do', async () => {
    const odd = new FakeRunner().stub(virshArgv('dumpxml', '--domain', 'fxvm odd;name', '--inactive'), { stdout: recorded('vm/virsh-dumpxml-odd-inactive.xml') });
    const a = await runKvmctl(['vm', 'log', 'fxvm odd;name'], odd);
    expect([a.code, a.err]).toEqual([5, expect.stringMatching(/keeps no serial log[\s\S]*kvmctl vm console/)]);
    const remoteUri = 'qemu+ssh://root@kvm1/system';
    const remote = new FakeRunner().stub(['virsh', '-c', remoteUri, 'dumpxml', '--domain', 'fxvm-web', '--inactive'], { stdout: recorded('vm/virsh-dumpxml-web-inactive.xml') });
    const b = await runKvmctl(['vm', 'log', 'fxvm-web'], remote, { uri: remoteUri });
    expect([b.code, b.err]).toEqual([5, expect.stringMatching(/is a file on the libvirt host \(.*fxvm-web\.serial\.log\)/)]);
  });
});
