/** The guest agent's requests, replies and errors (recorded), and the channel its hint shows. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotFoundError, RefusedError } from '../../../src/errors.js';
import { AGENT_CHANNEL, AGENT_CHANNEL_XML, agentCalls, agentError, agentProblemOf, parseExecReply, parseExecStatus } from '../../../src/libvirt/guest-agent.js';
import { asCommand } from '../../../src/libvirt/virsh-client.js';
import { attr, child, children, decodeXml } from '../../../src/libvirt/xml-codec.js';

const URI = 'qemu:///system';
const fixture = (dir: string, file: string) => readFileSync(join('test/fixtures/recorded', dir, file), 'utf8');

describe('the guest agent channel', () => {
  it('the element the hint shows is the one vm create defined (recorded dumpxml), by type and target', async () => {
    const shown = await decodeXml(AGENT_CHANNEL_XML);
    const devices = child(await decodeXml(fixture('vm', 'virsh-dumpxml-web-inactive.xml')), 'devices');
    const defined = children(devices, 'channel').find((c) => attr(child(c, 'target'), 'name') === AGENT_CHANNEL);
    expect(defined).toBeDefined();
    expect([shown.tag, attr(shown, 'type')]).toEqual(['channel', attr(defined, 'type')]);
    expect([attr(child(shown, 'target'), 'type'), attr(child(shown, 'target'), 'name')]).toEqual([attr(child(defined, 'target'), 'type'), AGENT_CHANNEL]);
  });

  it('no channel (recorded) is exit 5 whose hint holds the element and a shell-quoted virsh edit', () => {
    const cmd = asCommand(URI, agentCalls.ping("web 1'", 2));
    const err = agentError(cmd, { stdout: '', stderr: fixture('agent', 'err-guest-ping-no-channel.stderr'), exitCode: 1 }, "web 1'", URI);
    expect(err).toBeInstanceOf(RefusedError);
    expect(err.hint).toBe(`add ${AGENT_CHANNEL_XML} under <devices> (virsh -c qemu:///system edit --domain 'web 1'\\'''), restart the VM, and install qemu-guest-agent in the guest`);
  });
});

describe('agent errors and replies', () => {
  it('tells no channel from an agent that does not answer (recorded stderr); anything else is virsh\'s own class', () => {
    expect(agentProblemOf(fixture('agent', 'err-guest-ping-no-channel.stderr'))).toBe('not-configured');
    expect(agentProblemOf(fixture('agent', 'err-guest-ping-not-connected.stderr'))).toBe('not-answering');
    const stderr = fixture('vm', 'err-virsh-domifaddr-nosuch.stderr');
    expect(agentProblemOf(stderr)).toBeUndefined();
    const err = agentError(asCommand(URI, agentCalls.ping('nosuch')), { stdout: '', stderr, exitCode: 1 }, 'nosuch', URI);
    expect([err instanceof NotFoundError, err.message]).toEqual([true, `VM "nosuch" not found (failed to get domain 'nosuch')`]);
  });

  it('guest-exec gives a pid; guest-exec-status its end, the bytes decoded (recorded replies)', () => {
    expect(parseExecReply(fixture('agent', 'guest-exec.json'))).toBe(Number(JSON.parse(fixture('agent', 'guest-exec.json')).return.pid));
    expect(parseExecStatus(fixture('agent', 'guest-exec-status-running.json'))).toMatchObject({ exited: false });
    expect(parseExecStatus(fixture('agent', 'guest-exec-status-exited.json'))).toMatchObject({ exited: true, exitCode: 3 });
    expect(() => parseExecReply('{"error":{"class":"GenericError"}}')).toThrow(/no "return" object/);
  });

  it('the request is one argv element, built with JSON.stringify: an argument cannot change its structure', () => {
    const call = agentCalls.exec('web1', 'sh', ['-c', '"}, {"execute": "guest-shutdown']);
    const json = call.words[call.words.indexOf('--cmd') + 1] ?? '';
    expect(JSON.parse(json)).toEqual({ execute: 'guest-exec', arguments: { path: 'sh', arg: ['-c', '"}, {"execute": "guest-shutdown'], 'capture-output': true } });
    expect(call.mutates).toBe(true);
    // The virsh call may outlive the agent's own reply timeout only by a margin.
    expect(asCommand(URI, call).timeoutMs).toBe(30_000);
  });
});
