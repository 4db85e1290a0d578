/**
 * What kvmctl reads from a guest's serial console about cloud-init (--wait
 * ready, and the timeout message of --wait ip), on the recorded first boot of
 * the lab's Debian 12 cloud image.
 */
import { describe, expect, it } from 'vitest';
import { describeCloudInitConsole, readCloudInitConsole } from '../../../../src/commands/vm/cloud-init-log.js';
import { recorded } from '../../../support/harness.js';

const LOG = recorded('vm/serial-debian12-cloud-init.log');
const lines = LOG.split('\n');
const FILE = '/p/sm1.serial.log';

describe('the console of a real cloud-init boot', () => {
  it('a finished boot: the final message, its uptime and datasource, no problems', () => {
    const c = readCloudInitConsole(LOG);
    expect(c.finished).toEqual({
      line: 'Cloud-init v. 22.4.2 finished at Tue, 01 Dec 2026 21:48:15 +0000. Datasource DataSourceNoCloud [seed=/dev/vdb][dsmode=net].  Up 186.19 seconds',
      upSeconds: 186.19,
      datasource: 'DataSourceNoCloud',
    });
    expect(c.problems).toEqual([]);
    expect(describeCloudInitConsole(c, FILE)).toMatch(/^cloud-init finished \(Cloud-init v\. 22\.4\.2 finished at /);
  });

  it('cut before the final message: not finished, naming its last line (no terminal escapes)', () => {
    const cut = lines.slice(0, lines.findIndex((l) => l.includes("running 'modules:final'")) + 1).join('\n');
    const c = readCloudInitConsole(cut);
    expect(c.finished).toBeUndefined();
    expect(c.seen).toBe(true);
    expect(describeCloudInitConsole(c, FILE)).toMatch(/^cloud-init has not finished; its last console line: \[ +\d+\.\d+\] cloud-init\[\d+\]: Cloud-init v\. 22\.4\.2 running 'modules:final' at /);
    expect(describeCloudInitConsole(c, FILE)).not.toMatch(/\x1b/);
  });

  it('a boot where cloud-init never ran (seed invisible): says so', () => {
    const before = lines.slice(0, lines.findIndex((l) => /cloud-init/i.test(l))).join('\n');
    expect(before.length).toBeGreaterThan(1000);
    const c = readCloudInitConsole(before);
    expect(c).toEqual({ seen: false, finished: undefined, problems: [], last: undefined });
    expect(describeCloudInitConsole(c, FILE)).toBe(
      'the serial log (/p/sm1.serial.log) has no line from cloud-init: it did not run, or the guest has not booted that far (a guest that cannot see its seed disk disables cloud-init)',
    );
  });

  it('only the current boot counts: a reboot after the final message is not ready; its WARNING records are problems', () => {
    const reboot = `${LOG}\n${lines[0]}\n[    5.1] cloud-init[99]: 2026-12-01 21:50:00,001 - cc_scripts_user.py[WARNING]: Failed to run module scripts-user\n`;
    const c = readCloudInitConsole(reboot);
    expect(c.finished).toBeUndefined();
    expect(c.problems).toEqual(['2026-12-01 21:50:00,001 - cc_scripts_user.py[WARNING]: Failed to run module scripts-user']);
  });
});
