import { describe, expect, it } from 'vitest';
import { formatIdentity, parseIdentity, sameBinlogServer, sameServer } from '../../../src/core/server-identity.js';

describe('server identity', () => {
  it('round-trips the recorded form and reads the old server_id-only form', () => {
    const id = { serverId: 7, host: 'db1', port: 3306, uuid: '3e11fa47-71ca-11e1-9e33-c80aa9429562' };
    expect(parseIdentity(formatIdentity(id))).toEqual(id);
    expect(parseIdentity('server_id=1')).toEqual({ serverId: 1 });
    expect(parseIdentity('')).toBeUndefined();
  });

  it('matches on UUID when both have one, else on server_id, host and port', () => {
    const a = { serverId: 1, host: 'vm', port: 3306 };
    expect(sameServer(a, { serverId: 1, host: 'VM', port: 3306 })).toBe(true);
    expect(sameServer(a, { serverId: 1, host: 'vm', port: 3307 })).toBe(false);
    expect(sameServer(a, { serverId: 2, host: 'vm', port: 3306 })).toBe(false);
    expect(sameServer({ ...a, uuid: 'u1' }, { serverId: 9, host: 'x', port: 1, uuid: 'u1' })).toBe(true);
    // An old identity has no host: only a loose comparison matches it on server_id.
    expect(sameServer(a, { serverId: 1 })).toBe(false);
    expect(sameServer(a, { serverId: 1 }, true)).toBe(true);
  });

  it('keeps capture\'s failover check on server_id, compatible with logs of the old form', () => {
    expect(sameBinlogServer('server_id=1', 'server_id=1 host=vm:3306')).toBe(true);
    expect(sameBinlogServer('server_id=1 host=vm:3306', 'server_id=1 host=vm:4406')).toBe(true);
    expect(sameBinlogServer('server_id=1', 'server_id=2 host=vm:3306')).toBe(false);
  });
});
