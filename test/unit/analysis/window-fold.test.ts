import { describe, expect, it } from 'vitest';
import { WindowFolder } from '../../../src/analysis/window-fold.js';
import { flashbackStatements, orderedStatements, renderScript, sameAsServer, logKeyString, serverKeyString } from '../../../src/analysis/flashback-plan.js';
import { Op, type Value } from '../../../src/log/record-types.js';

const COLS = ['id', 'v'];
const r = (id: number, v: string | null): { values: Value[] } => ({ values: [{ int: id }, v === null ? { null: true } : { text: v }] });

function window(): WindowFolder {
  const f = new WindowFolder(['id']);
  f.apply(COLS, { op: Op.INSERT, index: 0, after: r(10, 'new') }); // inserted
  f.apply(COLS, { op: Op.DELETE, index: 0, before: r(1, 'gone') }); // deleted
  f.apply(COLS, { op: Op.UPDATE, index: 0, before: r(2, 'a'), after: r(2, 'b') });
  f.apply(COLS, { op: Op.UPDATE, index: 0, before: r(2, 'b'), after: r(2, 'c') }); // changed a -> c
  f.apply(COLS, { op: Op.UPDATE, index: 0, before: r(3, 'x'), after: r(3, 'y') });
  f.apply(COLS, { op: Op.UPDATE, index: 0, before: r(3, 'y'), after: r(3, 'x') }); // back: unchanged
  f.apply(COLS, { op: Op.INSERT, index: 0, after: r(11, 'tmp') });
  f.apply(COLS, { op: Op.DELETE, index: 0, before: r(11, 'tmp') }); // never visible
  f.apply(COLS, { op: Op.UPDATE, index: 0, before: r(4, 'k'), after: r(40, 'k') }); // key moved
  return f;
}

describe('WindowFolder.diff', () => {
  it('reports inserted, deleted and changed rows between the window ends, by key', () => {
    const d = window().diff();
    expect(d.counts).toEqual({ inserted: 2, deleted: 2, changed: 1, unchangedTouched: 2 });
    expect(d.inserted.map((x) => x.key.id).sort()).toEqual(['10', '40']);
    expect(d.deleted.map((x) => x.key.id).sort()).toEqual(['1', '4']);
    expect(d.changed).toEqual([{ key: { id: '2' }, changed: [{ column: 'v', before: 'a', after: 'c' }] }]);
  });

  it('keyless tables diff by full image with multiplicity', () => {
    const f = new WindowFolder(null);
    f.apply(COLS, { op: Op.INSERT, index: 0, after: r(1, 'a') });
    f.apply(COLS, { op: Op.INSERT, index: 0, after: r(1, 'a') });
    f.apply(COLS, { op: Op.DELETE, index: 0, before: r(2, 'b') });
    f.apply(COLS, { op: Op.UPDATE, index: 0, before: r(3, 'c'), after: r(3, 'C') });
    const d = f.diff();
    expect(d.counts).toMatchObject({ inserted: 3, deleted: 2, changed: 0 });
  });
});

describe('flashback statements', () => {
  it('puts each row back to its opening state: deletes, then updates of changed columns, then inserts', () => {
    const f = window();
    const s = orderedStatements(flashbackStatements('d`b', 't', f.keyed.values()));
    expect(s).toEqual([
      'DELETE FROM `d``b`.`t` WHERE `id` = 10',
      'DELETE FROM `d``b`.`t` WHERE `id` = 40',
      "UPDATE `d``b`.`t` SET `v` = 'a' WHERE `id` = 2",
      "INSERT INTO `d``b`.`t` (`id`, `v`) VALUES (1, 'gone')",
      "INSERT INTO `d``b`.`t` (`id`, `v`) VALUES (4, 'k')",
    ]);
  });

  it('quotes binary values as hex and wraps the script in one transaction with its session settings', () => {
    const f = new WindowFolder(['id']);
    const b = (v: Uint8Array) => ({ values: [{ int: 1 }, { bytes: v }] as Value[] });
    f.apply(COLS, { op: Op.UPDATE, index: 0, before: b(new Uint8Array([0, 39, 92])), after: b(new Uint8Array([1])) });
    const st = orderedStatements(flashbackStatements('d', 't', f.keyed.values()));
    expect(st).toEqual(["UPDATE `d`.`t` SET `v` = X'00275c' WHERE `id` = 1"]);
    const script = renderScript({ table: '`d`.`t`', window: 'x', rows: 1, conflicts: [{ key: { id: '9' }, reason: 'changed again' }], forced: false }, st);
    expect(script).toMatch(/^-- conflict: id=9 changed again$/m);
    expect(script).toMatch(/SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO';\nSTART TRANSACTION;\nUPDATE .*;\nCOMMIT;\n$/);
    expect(script).toMatch(/time_zone = '\+00:00'/);
  });

  it('compares log values with the server bytes exactly', () => {
    expect(sameAsServer({ int: 5 }, Buffer.from('5'), 'LONG')).toBe(true);
    expect(sameAsServer({ text: 'abc' }, Buffer.from('ABC'), 'VAR_STRING')).toBe(false);
    expect(sameAsServer({ null: true }, null, 'LONG')).toBe(true);
    expect(sameAsServer({ text: '' }, null, 'VAR_STRING')).toBe(false);
    expect(sameAsServer({ float: Math.fround(1.1) }, Buffer.from('1.1'), 'FLOAT')).toBe(true);
    expect(sameAsServer({ double: 1e300 }, Buffer.from('1e300'), 'DOUBLE')).toBe(true);
    expect(sameAsServer({ bit: 5 }, Buffer.from([0, 5]), 'BIT')).toBe(true);
    expect(sameAsServer({ bytes: new Uint8Array([1, 2]) }, Buffer.from([1, 2]), 'BLOB')).toBe(true);
    expect(logKeyString([{ int: 7 }, { text: 'x' }])).toBe(serverKeyString([Buffer.from('7'), Buffer.from('x')]));
  });
});
