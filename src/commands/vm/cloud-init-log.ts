/**
 * What a guest's serial console says about cloud-init. cloud-init writes its
 * WARNING and worse records to the console (its default logging config), and
 * its final_message module prints "Cloud-init v. X finished at …" at the end
 * of every boot; the unit files send both to journal+console. So the serial
 * log `vm create` keeps shows whether cloud-init ran, whether it finished and
 * what went wrong, without the guest agent and without a login.
 */

export interface CloudInitConsole {
  /** Any line from cloud-init (its version banner, a log record, the final message) in the current boot. */
  seen: boolean;
  /** The final message of the current boot, when cloud-init finished. */
  finished?: { line: string; upSeconds?: number; datasource?: string };
  /** Its WARNING, ERROR and CRITICAL records of the current boot. */
  problems: string[];
  /** The last cloud-init line of the current boot. */
  last?: string;
}

// "Cloud-init v. 22.4.2 finished at Tue, 01 Dec 2026 21:40:00 +0000. Datasource DataSourceNoCloud [seed=/dev/vdb][dsmode=net].  Up 118.11 seconds"
const FINISHED = /Cloud-init v\. \S+ finished at .*/;
// A log record, after the console's "[  5.1] cloud-init[99]: " prefix: "2026-12-01 21:50:00,001 - cc_x.py[WARNING]: …".
const RECORD = /\d{4}-\d\d-\d\d \S+ - [\w.-]+\.py\[(WARNING|ERROR|CRITICAL)\]: .*/;
const ANY = /cloud-init|Cloud-init v\. |\d{4}-\d\d-\d\d \S+ - [\w.-]+\.py\[[A-Z]+\]: /;
// The kernel's first line: what the console printed before it belongs to an earlier boot of the same QEMU process.
const BOOT = /Linux version \d/;

export function readCloudInitConsole(text: string): CloudInitConsole {
  // Serial lines end in CRLF; timestamps of systemd's console status lines are irrelevant here.
  const all = text.replace(/\r/g, '').split('\n');
  let start = 0;
  for (let i = all.length - 1; i >= 0; i--) {
    if (BOOT.test(all[i] ?? '')) {
      start = i;
      break;
    }
  }
  const lines = all.slice(start).map(stripTerminal).filter((l) => ANY.test(l));
  const problems = lines.map((l) => RECORD.exec(l)?.[0]).filter((l): l is string => l !== undefined);
  const fin = lines.map((l) => FINISHED.exec(l)?.[0]).filter((l): l is string => l !== undefined).pop();
  return {
    seen: lines.length > 0,
    finished: fin === undefined ? undefined : { line: fin.trim(), upSeconds: numberOf(/Up ([\d.]+) seconds/.exec(fin)?.[1]), datasource: /Datasource (\S+)/.exec(fin)?.[1] },
    problems,
    last: lines.at(-1)?.trim(),
  };
}

/** One sentence for a timeout message: what the console said about cloud-init. */
export function describeCloudInitConsole(c: CloudInitConsole, file: string): string {
  if (!c.seen) {
    return `the serial log (${file}) has no line from cloud-init: it did not run, or the guest has not booted that far (a guest that cannot see its seed disk disables cloud-init)`;
  }
  const problems = c.problems.length > 0 ? `; cloud-init reported: ${c.problems.slice(-3).join(' | ')}` : '';
  if (c.finished) return `cloud-init finished (${c.finished.line})${problems}`;
  return `cloud-init has not finished; its last console line: ${c.last ?? '?'}${problems}`;
}

function numberOf(s: string | undefined): number | undefined {
  return s === undefined ? undefined : Number(s);
}

/** Colour and cursor sequences systemd prints on the console ("[  OK  ]"), which would garble a message. */
function stripTerminal(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}
