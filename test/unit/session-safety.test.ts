/**
 * The pure parts of "a dropped session never strands the host": printed
 * commands that bash reads back as exactly the argv meant (checked with the
 * real bash), table cells that cannot drive the terminal, interface names
 * iptables would read as a wildcard, the ssh session's local address, and
 * locks whose pid was reused.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kvmctlCommand, shellQuote } from '../../src/exec/command.js';
import { isSameProcess, parseLockFile, processStartTime, withLock } from '../../src/exec/lock.js';
import { natRulesFor, validateIptablesIfaceName } from '../../src/net/kvmctl-rules.js';
import { escapeControls, renderTable } from '../../src/output/table.js';
import { sessionAddress } from '../../src/commands/bridge/move-addresses.js';
import { UsageError } from '../../src/errors.js';

/** Names that break out of a naive command line, or drive a terminal. */
const HOSTILE = [
  'x;reboot',
  '$(touch /tmp/kvmctl-pwned)',
  '`touch /tmp/kvmctl-pwned`',
  "it's",
  'a b',
  'a\tb',
  'a\nreboot',
  '\u001b[31mred\u001b[0m',
  'abc\u202edcba',
  '-rf',
  '',
  'x\\y',
  "'; reboot; '",
  '|&<>*?[]{}!#~',
  'é\u0085\u2028',
];

/** What bash gives the program for a pasted line: each word NUL-terminated. */
function bashWords(line: string): string[] {
  const r = spawnSync('bash', ['-c', `${line.replace(/^kvmctl/, 'printf "%s\\0"')}`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

describe('printed commands (one helper for hints, undo commands, doctor output, dry-run lines)', () => {
  it.each(HOSTILE)('%j: bash -n accepts the line and bash reads back exactly the words', (name) => {
    const line = kvmctlCommand('qemu+unix:///system?socket=/run/x sock', 'vm', 'stop', name, '--force');
    expect(spawnSync('bash', ['-n', '-c', line]).status).toBe(0);
    expect(bashWords(line)).toEqual(['-c', 'qemu+unix:///system?socket=/run/x sock', 'vm', 'stop', name, '--force']);
    // Nothing that drives or reorders the terminal is printed raw.
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2028\u2029]/);
  });

  it('names the URI only when it is not the default', () => {
    expect(kvmctlCommand('qemu:///system', 'vm', 'start', 'web1')).toBe('kvmctl vm start web1');
    expect(kvmctlCommand(undefined, 'bridge', 'delete', 'br0')).toBe('kvmctl bridge delete br0');
    expect(kvmctlCommand('qemu+ssh://root@kvm1/system', 'vm', 'start', 'a;b')).toBe("kvmctl -c qemu+ssh://root@kvm1/system vm start 'a;b'");
  });

  it('plain words stay as they are; quotes and control characters are escaped', () => {
    expect(shellQuote('web1')).toBe('web1');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('a\u001bb')).toBe("$'a\\x1bb'");
    expect(shellQuote('a\u202eb')).toBe("$'a\\xe2\\x80\\xaeb'");
  });
});

describe('table cells', () => {
  it('show control and bidi characters as visible escapes; one row stays one line', () => {
    const names = ['a\tb', 'c\nd', '\u001b[31mred', 'abc\u202edcba', 'x\\y', 'plain'];
    const out = renderTable([{ header: 'NAME', value: (r: string) => r }], names, null);
    expect(out.split('\n')).toEqual(['NAME', 'a\\tb', 'c\\nd', '\\e[31mred', 'abc\\u202edcba', 'x\\\\y', 'plain', '']);
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
    expect(escapeControls('web1 é')).toBe('web1 é');
  });
});

describe('interface names in iptables rules', () => {
  it.each(['x+', 'br+0', '+', '!br0'])('%j is refused before any rule is built', (name) => {
    expect(() => validateIptablesIfaceName('--bridge', name)).toThrow(UsageError);
    expect(() => natRulesFor(name, '10.0.0.0/24')).toThrow(/iptables reads/);
    expect(() => natRulesFor('br0', '10.0.0.0/24', name)).toThrow(/--out/);
  });
  it('quotes the rule: a trailing + is a wildcard', () => {
    expect(() => validateIptablesIfaceName('--bridge', 'x+')).toThrow(`"-i x+" would match every interface whose name starts with "x"`);
  });
  it.each(['br0', 'virbr10', 'br-lan.5', 'a_b'])('%j is fine', (name) => {
    expect(validateIptablesIfaceName('--bridge', name)).toBe(name);
  });
});

describe('SSH_CONNECTION', () => {
  it('gives the local address of the session', () => {
    expect(sessionAddress({ SSH_CONNECTION: '203.0.113.9 50022 198.51.100.1 22' })).toBe('198.51.100.1');
    expect(sessionAddress({ SSH_CONNECTION: '::ffff:203.0.113.9 50022 ::ffff:198.51.100.1 22' })).toBe('198.51.100.1');
    expect(sessionAddress({ SSH_CONNECTION: '2001:db8::9 50022 2001:DB8::1 22' })).toBe('2001:db8::1');
    expect(sessionAddress({})).toBeUndefined();
    expect(sessionAddress({ SSH_CONNECTION: '' })).toBeUndefined();
  });
});

describe('locks and reused pids', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  /** A state directory with an empty locks folder, removed after the test. */
  const stateWithLocks = () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvmctl-lock-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'locks'));
    return dir;
  };
  const lockFile = (dir: string, key: string) => join(dir, 'locks', createHash('sha256').update(key).digest('hex').slice(0, 32) + '.lock');

  it('reads a process start time from /proc', () => {
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(isSameProcess(process.pid, processStartTime(process.pid))).toBe(true);
    expect(isSameProcess(process.pid, '1')).toBe(false);
    expect(parseLockFile('12\nvm a\n345\n["vm","create","a"]\n')).toEqual({ pid: 12, key: 'vm a', startTime: '345', argv: ['vm', 'create', 'a'] });
  });

  it('takes over at once a lock whose live pid started at another time (another program now)', async () => {
    const dir = stateWithLocks();
    const other = spawn('sleep', ['30']);
    try {
      // The pid is alive, but the lock was written by a process that started at tick 1.
      writeFileSync(lockFile(dir, 'vm r'), `${other.pid}\nvm r\n1\n["vm","create","r"]\n`);
      expect(await withLock('vm r', { dir, timeoutMs: 5000 }, async () => 'taken')).toBe('taken');
    } finally {
      other.kill();
    }
  });

  it('waits for a live holder and says who it is: pid, start time and command', async () => {
    const dir = stateWithLocks();
    const other = spawn('sleep', ['30']);
    try {
      await new Promise((r) => setTimeout(r, 100));
      const start = processStartTime(other.pid!);
      writeFileSync(lockFile(dir, 'vm w'), `${other.pid}\nvm w\n${start}\n["vm","create","w;x"]\n`);
      const told: string[] = [];
      const err = await withLock('vm w', { dir, timeoutMs: 1500, onWait: (m) => told.push(m) }, async () => 'no').catch((e: Error) => e);
      expect(told).toEqual([`waiting for another kvmctl working on vm w (pid ${other.pid}, started ${start} ticks after boot: kvmctl vm create 'w;x')`]);
      expect((err as Error).message).toBe(`another kvmctl process (pid ${other.pid}, started ${start} ticks after boot: kvmctl vm create 'w;x') is still working on vm w`);
    } finally {
      other.kill();
    }
  });
});

describe('ip -j with control characters in a name', () => {
  it('parses what ip printed (a raw ESC inside a JSON string) and keeps the names exact', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseIpLinks } = await import('../../src/net/ip.js');
    const text = readFileSync(new URL('../fixtures/recorded/net/ns-ip-j-d-addr-show-control-names.json', import.meta.url), 'utf8');
    expect(() => JSON.parse(text)).toThrow();
    expect(parseIpLinks(text).map((l) => l.ifname)).toEqual(['lo', 'b\u001b[31mr', 'b\u202ex']);
  });
});

describe('--confirm-timeout', () => {
  it('is a whole number of seconds, 1 to 3600, and only with --move-address', async () => {
    const { parseConfirmTimeout } = await import('../../src/commands/bridge/confirm.js');
    expect(parseConfirmTimeout(undefined, false)).toBeUndefined();
    expect(parseConfirmTimeout('120', true)).toBe(120);
    for (const bad of ['0', '3601', '-5', '1.5', '1e3', '', '1;reboot']) expect(() => parseConfirmTimeout(bad, true)).toThrow(UsageError);
    expect(() => parseConfirmTimeout('10', false)).toThrow('--confirm-timeout needs --move-address');
  });
});
