import { describe, expect, it } from 'vitest';
import { ObjectCatalog, ansiQuotes, parseObjectStatement, retargetDatabase } from '../../../src/schema/schema-objects.js';

describe('parseObjectStatement', () => {
  it('reads the object a statement creates, alters or drops, past options', () => {
    expect(parseObjectStatement('CREATE OR REPLACE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v1` AS SELECT 1', 'd')).toEqual({
      action: 'create', kind: 'VIEW', database: 'd', names: ['v1'],
    });
    expect(parseObjectStatement("CREATE DEFINER='a'@'%' TRIGGER x.tr BEFORE INSERT ON t FOR EACH ROW SET NEW.v = 1", 'd')).toEqual({
      action: 'create', kind: 'TRIGGER', database: 'x', names: ['tr'], table: 't',
    });
    expect(parseObjectStatement('CREATE DEFINER=CURRENT_USER() AGGREGATE FUNCTION IF NOT EXISTS f() RETURNS INT BEGIN RETURN 1; END', 'd')!.names).toEqual(['f']);
    expect(parseObjectStatement('DROP VIEW IF EXISTS a, d2.b', 'd')).toEqual({ action: 'drop', kind: 'VIEW', database: 'd', names: ['a', 'b'] });
    expect(parseObjectStatement('ALTER EVENT e ON SCHEDULE EVERY 2 DAY RENAME TO e2', 'd')!.renameTo).toBe('e2');
    expect(parseObjectStatement('CREATE TABLE t (a int)', 'd')).toBeNull();
    expect(parseObjectStatement('CREATE DEFINER="u"@"h" PROCEDURE "p"() SELECT 1', 'd', true)!.names).toEqual(['p']);
  });
});

describe('ObjectCatalog', () => {
  it('follows creates, replaces, alters and drops in order', () => {
    const c = new ObjectCatalog([{ database: 'd', kind: 'VIEW', name: 'v', createSql: 'CREATE VIEW `v` AS SELECT 1' }]);
    c.apply('CREATE OR REPLACE VIEW v AS SELECT 2', 'd');
    c.apply('CREATE PROCEDURE p() SELECT 1', 'd', '1411383296', 100);
    c.apply('ALTER PROCEDURE P COMMENT "x"', 'd', '1411383296', 101);
    c.apply('CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1', 'd');
    c.apply('DROP EVENT e', 'd');
    c.apply('CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW SET @x = 1', 'd');
    const objs = c.objects('d');
    expect(objs.map((o) => `${o.kind} ${o.name}`)).toEqual(['VIEW v', 'PROCEDURE p', 'TRIGGER tr']);
    expect(objs[0]!.statement).toBe('CREATE OR REPLACE VIEW v AS SELECT 2');
    expect(objs[1]!.alters).toEqual([{ statement: 'ALTER PROCEDURE P COMMENT "x"', sqlMode: '1411383296', at: 101 }]);
    expect(objs[1]!.createdAt).toBe(100);
  });

  it('drops triggers with their table, moves them with a rename, and empties a dropped database', () => {
    const c = new ObjectCatalog();
    c.apply('CREATE TRIGGER a AFTER INSERT ON t FOR EACH ROW SET @x = 1', 'd');
    c.apply('CREATE TRIGGER b AFTER INSERT ON u FOR EACH ROW SET @x = 1', 'd');
    c.apply('RENAME TABLE t TO t2', 'd');
    expect(c.objects('d').find((o) => o.name === 'a')).toMatchObject({ table: 't2', statement: 'CREATE TRIGGER a AFTER INSERT ON `t2` FOR EACH ROW SET @x = 1' });
    c.apply('DROP TABLE IF EXISTS d.u', 'x');
    expect(c.objects('d').map((o) => o.name)).toEqual(['a']);
    c.apply('CREATE VIEW w AS SELECT 1', 'e');
    c.apply('DROP DATABASE d', '');
    expect(c.objects().map((o) => o.name)).toEqual(['w']);
  });
});

describe('retargetDatabase', () => {
  it('moves qualifiers of one database only, keeping quoting, strings and NEW.col', () => {
    expect(retargetDatabase("INSERT INTO src.log VALUES (NEW.id, 'src.x'), (`src`.f(1))", 'src', 'dst')).toBe("INSERT INTO dst.log VALUES (NEW.id, 'src.x'), (`dst`.f(1))");
    expect(retargetDatabase('SELECT "src"."t".a FROM "src"."t"', 'src', 'dst', true)).toBe('SELECT `dst`."t".a FROM `dst`."t"');
  });

  it('knows ANSI_QUOTES from bits and names', () => {
    expect(ansiQuotes('4')).toBe(true);
    expect(ansiQuotes('1411383296')).toBe(false);
    expect(ansiQuotes('ANSI_QUOTES,STRICT_TRANS_TABLES')).toBe(true);
    expect(ansiQuotes(undefined)).toBe(false);
  });
});
