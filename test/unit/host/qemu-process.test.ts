/** The start of a domain's QEMU process from /proc, read from a recording (test/fixtures/recorded/rerun/record.sh). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bootTimeSeconds, isQemuOf, processStartTicks, qemuProcessStartMs } from '../../../src/host/qemu-process.js';
import { memoryFs } from '../../../src/local-fs.js';

const rec = (file: string) => readFileSync(`test/fixtures/recorded/rerun/${file}`, 'utf8');
const UUID = '6b1d2c3e-0f00-4e4e-9d9d-0a0b0c0d0e01';

describe('qemu process start', () => {
  it('parses starttime, btime and the -uuid of the command line', () => {
    expect(processStartTicks(rec('proc-qemu-stat.txt'))).toBe(171462);
    expect(processStartTicks('42 (a (b) c) S 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 777 0')).toBe(777);
    expect(bootTimeSeconds(rec('proc-stat-btime.txt'))).toBe(1796197764);
    expect(isQemuOf(rec('proc-qemu-cmdline.bin'), UUID)).toBe(true);
    expect(isQemuOf(rec('proc-qemu-cmdline.bin'), UUID.toUpperCase())).toBe(true);
    expect(isQemuOf(rec('proc-qemu-cmdline.bin'), '00000000-0000-0000-0000-000000000000')).toBe(false);
    expect(isQemuOf(`/bin/sleep\0-uuid\0${UUID}\0`, UUID)).toBe(false);
  });

  it('the recorded second start: at most a second before the time noted before virsh start, never after', async () => {
    const pid = /^(\d+) /.exec(rec('proc-qemu-stat.txt'))![1]!;
    const fs = memoryFs({ '/proc/stat': rec('proc-stat-btime.txt'), [`/proc/${pid}/cmdline`]: rec('proc-qemu-cmdline.bin'), [`/proc/${pid}/stat`]: rec('proc-qemu-stat.txt'), '/proc/self/cmdline': 'node\0' });
    const started = await qemuProcessStartMs(fs, UUID);
    expect(started).toBe(1796197764 * 1000 + 1714620);
    const noted = Number(rec('start-2.ms'));
    expect(noted - started!).toBeGreaterThanOrEqual(0);
    expect(noted - started!).toBeLessThan(1000);
    expect(await qemuProcessStartMs(fs, '00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(await qemuProcessStartMs(memoryFs({}), UUID)).toBeUndefined();
  });
});
