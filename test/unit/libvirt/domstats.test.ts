/** parseDomstats on recorded `virsh domstats --raw` output, odd names included. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { numberStat, parseDomstats, stateName } from '../../../src/libvirt/domstats.js';

const recorded = (name: string) => readFileSync(`test/fixtures/recorded/${name}`, 'utf8');

describe('parseDomstats', () => {
  it('reads every domain of a recorded listing with its stats, names exactly as libvirt has them', () => {
    const stats = parseDomstats(recorded('virsh-domstats-raw-list-inactive.txt'));
    expect(stats.map((s) => s.name)).toEqual(["fx;semi", 'fx-off', "fx'quote", 'fx space']);
    for (const s of stats) expect(stateName(s.stats)).toBe('shutoff');
  });

  it("keeps a running domain's counters as virsh printed them", () => {
    const [running] = parseDomstats(recorded('virsh-domstats-raw-two.txt'));
    expect(running?.name).toBe('fx-running');
    expect(stateName(running?.stats ?? {})).toBe('running');
    expect(running?.stats['cpu.time']).toBe('5260000000');
    expect(numberStat(running?.stats ?? {}, 'balloon.maximum')).toBe(262144);
  });

  it("takes a header's name up to its last quote, and a value after the first =", () => {
    const text = "Domain: 'a = b's'\n  block.0.path=/var/lib/x=y.qcow2\n  state.state=5\n\nDomain: 'c'  \n  state.state=1\n";
    expect(parseDomstats(text)).toEqual([
      { name: "a = b's", stats: { 'block.0.path': '/var/lib/x=y.qcow2', 'state.state': '5' } },
      { name: 'c', stats: { 'state.state': '1' } },
    ]);
  });

  it('ignores what is not a header or an indented key=value line', () => {
    const text = "error: something\n  orphan=1\nDomain: 'x'\nnot indented=1\n  no-equals\n  =empty-key\n  ok=1\n";
    expect(parseDomstats(text)).toEqual([{ name: 'x', stats: { ok: '1' } }]);
  });
});
