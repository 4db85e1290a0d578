import { describe, expect, it } from 'vitest';
import { RealRunner } from '../../src/exec/real-runner.js';
import { readCommand } from '../../src/exec/command.js';

describe('RealRunner input', () => {
  it('can be reopened as /dev/stdin (how virsh pool-define/vol-create-from read XML) and read from fd 0', async () => {
    const runner = new RealRunner();
    const reopened = await runner.run(readCommand('cat', ['/dev/stdin'], { input: '<pool type="dir"/>\n' }));
    expect(reopened).toMatchObject({ exitCode: 0, stdout: '<pool type="dir"/>\n' });
    const piped = await runner.run(readCommand('cat', [], { input: 'abc' }));
    expect(piped).toMatchObject({ exitCode: 0, stdout: 'abc' });
  });
});
