/** --port and --to of net forward add, and the ss parser behind the host-port check. */
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../../../../src/exec/fake.js';
import { parsePortRange, parseTarget } from '../../../../../src/commands/net/forward/target.js';
import { runKvmctl } from '../../../../support/harness.js';

describe('--port and --to', () => {
  it('ports are 1-65535 and ranges are in order', () => {
    expect(parsePortRange('2222', '--port')).toEqual({ start: 2222, end: 2222 });
    expect(parsePortRange('8000-8010', '--port')).toEqual({ start: 8000, end: 8010 });
    expect(() => parsePortRange('0', '--port')).toThrow('invalid --port 0: 0 is not a port (1-65535)');
    expect(() => parsePortRange('65536', '--port')).toThrow(/65536 is not a port/);
    expect(() => parsePortRange('10-5', '--port')).toThrow('invalid --port 10-5: the range is not in order');
    expect(() => parsePortRange('ssh', '--port')).toThrow('invalid --port "ssh"');
    expect(() => parsePortRange('1-2-3', '--port')).toThrow(/invalid --port/);
  });

  it('VM[:PORT] defaults to 22; IP needs a port; a range keeps its ports', () => {
    const one = { start: 2222, end: 2222 };
    const range = { start: 8000, end: 8010 };
    expect(parseTarget('web1', one)).toEqual({ kind: 'vm', vm: 'web1', ports: { start: 22, end: 22 } });
    expect(parseTarget('web1:80', one)).toEqual({ kind: 'vm', vm: 'web1', ports: { start: 80, end: 80 } });
    expect(parseTarget('10.0.0.5:22', one)).toEqual({ kind: 'address', address: '10.0.0.5', ports: { start: 22, end: 22 } });
    expect(parseTarget('10.0.0.5', range)).toEqual({ kind: 'address', address: '10.0.0.5', ports: range });
    expect(parseTarget('10.0.0.5:8000-8010', range)).toEqual({ kind: 'address', address: '10.0.0.5', ports: range });
    expect(parseTarget('web1', range)).toEqual({ kind: 'vm', vm: 'web1', ports: range });
    expect(() => parseTarget('10.0.0.5', one)).toThrow('--to 10.0.0.5: an address needs a port');
    expect(() => parseTarget('10.0.0.5:9000-9010', range)).toThrow(/a range of ports forwards to the same ports/);
    expect(() => parseTarget('10.0.0.5:22-23', one)).toThrow(/one host port forwards to one port/);
    expect(() => parseTarget('10.0.0.300:22', one)).toThrow(/10\.0\.0\.300 is not an IPv4 address/);
    expect(() => parseTarget('we/b:22', one)).toThrow(/invalid VM name/);
  });

  it.each([
    [['--port', '0', '--to', '10.77.0.2:22'], 'invalid --port 0: 0 is not a port (1-65535)'],
    [['--port', '22', '--to', '10.77.0.2'], 'an address needs a port'],
    [['--port', '22', '--to', '10.77.0.2:22', '--proto', 'sctp'], "argument 'sctp' is invalid"],
    [['--port', '22', '--to', '10.77.0.2:22', '--net', '-x'], "invalid network name \"-x\": it starts with '-'"],
  ])('add %j is exit 2 before anything runs', async (args, message) => {
    const r = await runKvmctl(['net', 'forward', 'add', ...args], new FakeRunner());
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.runner.calls).toEqual([]);
  });
});
