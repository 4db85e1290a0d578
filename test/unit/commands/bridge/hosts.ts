/**
 * kvmctl bridge over recorded `ip -j` output: the test namespace (bridge fxbr
 * with port fxcl, uplink fxup with the default route), the same after a real
 * `bridge attach fxbr fxup --move-address` (*-moved.json), and the lab's
 * namespace (virbr1 with fxn-vm1's tap).
 */
import { FakeRunner } from '../../../../src/exec/fake.js';
import { recorded, URI } from '../../../support/harness.js';

export const UNREACHABLE = "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n";
export const VNET = /net\.0\.name=(\S+)/.exec(recorded('net/virsh-domstats-raw-interface-list-active.txt'))?.[1] ?? '?';
export const domstats = ['virsh', '-c', URI, 'domstats', '--raw', '--interface', '--list-active'];

/** A namespace's links, and libvirt unreachable (as in the e2e namespaces): what create, list and host doctor read. */
export function nsLinks(moved = false): FakeRunner {
  return new FakeRunner()
    .stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: recorded(`net/ns-ip-j-d-addr-show${moved ? '-moved' : ''}.json`) })
    .stub((c) => c.program === 'virsh', { exitCode: 1, stderr: UNREACHABLE }, Infinity);
}

/** A namespace: its links and routes, and libvirt unreachable. */
export function ns(moved = false): FakeRunner {
  return nsLinks(moved)
    .stub(['ip', '-j', 'route', 'show'], { stdout: recorded(`net/ns-ip-j-route-show${moved ? '-moved' : ''}.json`) })
    .stub(['ip', '-j', '-6', 'route', 'show'], { stdout: moved ? '[]' : recorded('net/ns-ip-j-6-route-show.json') });
}

/** The lab's links with libvirt answering domstats: what bridge list reads. */
export function labLinks(): FakeRunner {
  return new FakeRunner()
    .stub(['ip', '-j', '-d', 'addr', 'show'], { stdout: recorded('net/lab-ip-j-d-addr-show.json') })
    .stub(domstats, { stdout: recorded('net/virsh-domstats-raw-interface-list-active.txt') });
}

/** The lab's namespace with libvirt answering. */
export function lab(): FakeRunner {
  return labLinks()
    .stub(['ip', '-j', 'route', 'show'], { stdout: recorded('net/lab-ip-j-route-show.json') })
    .stub(['ip', '-j', '-6', 'route', 'show'], { stdout: '[]' });
}
