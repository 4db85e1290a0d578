import { describe, expect, it } from 'vitest';
import { assertDefinition, commandWords, outputSchema } from '../../support/schemas.js';

describe('output schemas', () => {
  it('reads the command words, skipping options and the values of global ones', () => {
    expect(commandWords(['-c', 'test:///default', 'vm', 'list', '--all', '-H', 'all', '-o', 'json'])).toEqual(['vm', 'list']);
    expect(commandWords(['net', 'forward', 'list', 'default'])).toEqual(['net', 'forward', 'list', 'default']);
  });

  it('finds no schema for a command that has none', () => {
    expect(outputSchema(['no-such-noun', 'verb'])).toBeNull();
  });

  it('checks the shared address object', () => {
    const ok = { address: '192.168.122.10', prefix: 24, mac: '52:54:00:aa:bb:cc', source: 'lease' };
    assertDefinition('address', ok);
    expect(() => assertDefinition('address', { ...ok, mac: '52:54:00:AA:BB:CC' })).toThrow(/mac/);
    expect(() => assertDefinition('address', { address: ok.address, prefix: 24, source: 'lease' })).toThrow(/mac/);
    expect(() => assertDefinition('state', 'UP')).toThrow(/pattern/);
  });
});
