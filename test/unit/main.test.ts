import { describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import { FakeRunner } from '../../src/exec/fake.js';
import { memoryIO } from '../../src/output/io.js';
import { memoryFs } from '../../src/local-fs.js';

function run(argv: string[], env: Record<string, string> = {}, runner = new FakeRunner()) {
  const io = memoryIO(env);
  const deps = { io, runner, fs: memoryFs({}), version: '9.9.9', signal: new AbortController().signal, argv };
  return main(['node', 'kvmctl', ...argv], deps).then((code) => ({ code, out: io.out, err: io.err, runner }));
}

describe('main', () => {
  it('prints the version and exits 0', async () => {
    const r = await run(['--version']);
    expect(r).toMatchObject({ code: 0, out: '9.9.9\n', err: '' });
  });

  it('--help lists the nouns, examples and the exit-code table', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const noun of ['host', 'vm', 'pool', 'volume', 'bridge', 'net']) expect(r.out).toMatch(new RegExp(`^  ${noun}\\s`, 'm'));
    expect(r.out).toMatch(/Examples:\n {2}\$ kvmctl host/);
    expect(r.out).toMatch(/Exit codes:\n {2}0 +success/);
    expect(r.out).toMatch(/^ {2}5 +refused/m);
  });

  it('an unknown command or option is exit 2 and runs nothing', async () => {
    const a = await run(['frobnicate']);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/unknown command 'frobnicate'/);
    const b = await run(['host', '--bogus']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/unknown option '--bogus'/);
    expect(b.runner.calls).toEqual([]);
  });

  it('an unknown output format is exit 2 before any command runs', async () => {
    const r = await run(['-o', 'yaml', 'host']);
    expect(r.code).toBe(2);
    expect(r.err).toBe('kvmctl: error: unknown output format "yaml"\nhint: use -o table or -o json or -o name\n');
    expect(r.runner.calls).toEqual([]);
  });

  it.each([['not a uri'], ['qemu:/system'], ['///x'], ['qemu:///system extra']])('a malformed URI %j is exit 2', async (uri) => {
    const r = await run(['-c', uri, 'host']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`malformed libvirt URI ${JSON.stringify(uri)} (from --connect)`);
    expect(r.runner.calls).toEqual([]);
  });

  it('takes the URI from KVMCTL_URI before LIBVIRT_DEFAULT_URI, and names the source when malformed', async () => {
    const r = await run(['host'], { KVMCTL_URI: 'bad uri', LIBVIRT_DEFAULT_URI: 'qemu:///system' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('(from KVMCTL_URI)');
  });

  it('an empty KVMCTL_URI or LIBVIRT_DEFAULT_URI counts as unset: the next source is used', async () => {
    const next = await run(['host', 'check'], { KVMCTL_URI: '', LIBVIRT_DEFAULT_URI: 'test:///default' });
    expect(next.err).not.toContain('malformed');
    expect(next.runner.argvs().length).toBeGreaterThan(0);
    expect(next.runner.argvs().filter((a) => a.includes(' -c '))).not.toEqual([]);
    expect(next.runner.argvs().filter((a) => a.includes(' -c ')).every((a) => a.includes('-c test:///default'))).toBe(true);
    const both = await run(['host', 'check'], { KVMCTL_URI: '', LIBVIRT_DEFAULT_URI: '' });
    expect(both.err).not.toContain('malformed');
    expect(both.runner.argvs().filter((a) => a.includes(' -c '))).not.toEqual([]);
    expect(both.runner.argvs().filter((a) => a.includes(' -c ')).every((a) => a.includes('-c qemu:///system'))).toBe(true);
  });

  it('errors show no stack trace unless -v', async () => {
    // The fake refuses every command, so libvirt counts as unreachable and the check fails.
    const quiet = await run(['-c', 'test:///default', 'host', 'check']);
    expect(quiet.err).not.toMatch(/\n\s+at /);
    const loud = await run(['-v', '-c', 'test:///default', 'host', 'check']);
    expect(loud.err).toMatch(/\n\s+at /);
  });
});
