import { describe, expect, it } from 'vitest';
import { followCascades, type CascadeStart } from '../../../src/guard/cascade.js';
import { createForeignKeys, ForeignKeyMap } from '../../../src/guard/foreign-keys.js';
import type { TableRef } from '../../../src/guard/ddl-effects.js';

const t = (table: string): TableRef => ({ database: 'shop', table });

/** A key map and NOT NULL knowledge from short CREATE TABLE texts. */
function schema(defs: Record<string, string>) {
  const m = new ForeignKeyMap();
  const notNull = new Map<string, boolean>();
  for (const [name, body] of Object.entries(defs)) {
    m.define(t(name), createForeignKeys(`CREATE TABLE ${name} (${body})`, t(name)));
    for (const col of body.split(',')) {
      const w = col.trim().split(/\s+/);
      if (w[0] && !/^(CONSTRAINT|FOREIGN)$/i.test(w[0])) notNull.set(`${name}.${w[0]}`, /NOT NULL|PRIMARY KEY/i.test(col));
    }
  }
  return {
    referencing: (p: TableRef) => m.referencing(p),
    notNull: (x: TableRef, c: string) => notNull.get(`${x.table}.${c}`),
  };
}

const chain = {
  customers: 'id INT PRIMARY KEY',
  orders: 'id INT PRIMARY KEY, cid INT NOT NULL, FOREIGN KEY (cid) REFERENCES customers (id) ON DELETE CASCADE',
  items: 'id INT PRIMARY KEY, oid INT NOT NULL, FOREIGN KEY (oid) REFERENCES orders (id) ON DELETE CASCADE',
  notes: 'id INT PRIMARY KEY, cid INT, FOREIGN KEY (cid) REFERENCES customers (id) ON DELETE CASCADE',
  remarks: 'id INT PRIMARY KEY, nid INT NOT NULL, FOREIGN KEY (nid) REFERENCES notes (id) ON DELETE CASCADE',
  addresses: 'id INT PRIMARY KEY, cid INT, FOREIGN KEY (cid) REFERENCES customers (id) ON DELETE SET NULL',
  invoices: 'id INT PRIMARY KEY, cid INT NOT NULL, FOREIGN KEY (cid) REFERENCES customers (id) ON UPDATE CASCADE',
};

const run = (s: ReturnType<typeof schema>, starts: CascadeStart[]) => {
  const r = followCascades(starts, s.referencing, s.notNull);
  return {
    deleted: Object.fromEntries(r.deleted.map((d) => [d.table.table, `${d.effect}${d.nullKeys ? '+nulls' : ''}${d.destructive ? ' destructive' : ''} via ${d.via.parent.table} root ${d.root.table}`])),
    modified: r.modified.map((m) => `${m.table.table} ${m.action}${m.parentEmptied ? ' all' : ''}`),
  };
};

describe('followCascades', () => {
  it('an emptied parent empties its NOT NULL-keyed CASCADE descendants, level by level', () => {
    const r = run(schema(chain), [{ table: t('customers'), emptied: true, destructive: true }]);
    expect(r.deleted).toEqual({
      orders: 'emptied destructive via customers root customers',
      items: 'emptied destructive via orders root customers',
      // A nullable key: rows holding NULL stay, so below it only "reduced" can be said.
      notes: 'emptied+nulls destructive via customers root customers',
      remarks: 'reduced destructive via notes root customers',
    });
    // SET NULL children keep their rows; ON UPDATE-only and RESTRICT keys do nothing on delete.
    expect(r.modified).toEqual(['addresses SET NULL all']);
  });

  it('a partial delete only reduces, and carries whether it was destructive', () => {
    const s = schema(chain);
    expect(run(s, [{ table: t('customers'), emptied: false, destructive: false }]).deleted.items).toBe('reduced via orders root customers');
    expect(run(s, [{ table: t('orders'), emptied: false, destructive: true }]).deleted).toEqual({ items: 'reduced destructive via orders root orders' });
    expect(run(s, [{ table: t('items'), emptied: true, destructive: true }]).deleted).toEqual({});
  });

  it('keeps the strongest knowledge when a table is reached twice, and ends on cycles', () => {
    const s = schema({
      a: 'id INT PRIMARY KEY',
      b: 'id INT PRIMARY KEY, aid INT NOT NULL, FOREIGN KEY (aid) REFERENCES a (id) ON DELETE CASCADE',
      c: 'id INT PRIMARY KEY, aid INT, bid INT NOT NULL, FOREIGN KEY (aid) REFERENCES a (id) ON DELETE CASCADE, FOREIGN KEY (bid) REFERENCES b (id) ON DELETE CASCADE',
      tree: 'id INT PRIMARY KEY, up INT, FOREIGN KEY (up) REFERENCES tree (id) ON DELETE CASCADE, FOREIGN KEY (id) REFERENCES a (id) ON DELETE CASCADE',
    });
    const r = run(s, [{ table: t('a'), emptied: true, destructive: false }]);
    // c is reached through its nullable key to a and through its NOT NULL key to b (emptied): emptied.
    expect(r.deleted.c).toMatch(/^emptied via b/);
    expect(r.deleted.tree).toMatch(/^emptied via (a|tree)/);
    expect(run(s, [{ table: t('tree'), emptied: false, destructive: false }]).deleted).toEqual({ tree: 'reduced via tree root tree' });
  });
});
