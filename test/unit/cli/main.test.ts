// Which command module a command line loads (the others are only listed, so start stays fast).
import { describe, expect, it } from 'vitest';
import { selectedCommand } from '../../../src/cli/main.js';

describe('selectedCommand', () => {
  const name = (args: string[]) => selectedCommand(args)?.name;
  it('is the first word that is not an option, skipping the value of --config', () => {
    expect(name(['restore', '--table', 'a.b'])).toBe('restore');
    expect(name(['--config', 'status', 'verify'])).toBe('verify');
    expect(name(['--config=x.json', 'stack', 'up'])).toBe('stack');
    expect(name(['help', 'history'])).toBe('history');
  });
  it('is none for the top-level help, a bare pitr and unknown commands', () => {
    expect(name(['--help'])).toBeUndefined();
    expect(name([])).toBeUndefined();
    expect(name(['restor'])).toBeUndefined();
    expect(name(['help'])).toBeUndefined();
  });
});
