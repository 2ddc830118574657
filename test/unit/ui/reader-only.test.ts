// pitr ui's reader-only rule: the capture or custodian user named as the reader is refused, and so are
// credentials the brokers treat as more than a reader's.
import { describe, expect, it } from 'vitest';
import { refuseKnownWiderUser, refuseWiderReach } from '../../../src/ui/reader-only.js';

const u = (username: string) => ({ username, password: `${username}-secret` });

describe('reader only', () => {
  it('refuses the capture or custodian user given as the reader', () => {
    expect(() => refuseKnownWiderUser(u('cap'), { capture: u('cap'), reader: u('cap') })).toThrow(/is the capture user/);
    expect(() => refuseKnownWiderUser(u('root'), { custodian: u('root') })).toThrow(/is the custodian user/);
    expect(() => refuseKnownWiderUser(u('reader'), { capture: u('cap'), custodian: u('root'), reader: u('reader') })).not.toThrow();
  });

  it('never says a password', () => {
    let message = '';
    try {
      refuseKnownWiderUser(u('cap'), { capture: u('cap') });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/reader credentials only/);
    expect(message).not.toContain('cap-secret');
  });

  it("goes by the brokers' answers", () => {
    expect(() => refuseWiderReach('x', { clusterAdmin: true, readerGroups: true })).toThrow(/list ACLs/);
    expect(() => refuseWiderReach('x', { clusterAdmin: false, readerGroups: false })).toThrow(/consumer groups/);
    expect(() => refuseWiderReach('x', { clusterAdmin: false, readerGroups: true })).not.toThrow();
  });
});
