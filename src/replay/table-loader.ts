// Applies folded row state to a table on the target server: deletes by key or image, then bulk
// inserts through LOAD DATA LOCAL INFILE from a stream (never row by row).
import { Readable } from 'node:stream';
import type { Connection } from '../core/mysql-conn.js';
import { qid, qualified } from '../core/mysql-conn.js';
import { rows } from '../core/catalog.js';
import type { FoldResult, LineFoldResult, Row } from './row-folder.js';
import { pushLoadField, sqlLiteral, TAB, LF } from './sql-values.js';
import type { Value } from '../log/record-types.js';

export interface ColumnInfo {
  name: string;
  dataType: string;
  charset: string | null;
}

export interface TableInfo {
  columns: ColumnInfo[];
  /** Primary key columns, else the first unique key whose columns are all NOT NULL, else null. */
  keyColumns: string[] | null;
  /** The AUTO_INCREMENT column, if the table has one. */
  autoIncrement?: string;
}

export async function describeTable(conn: Connection, db: string, table: string): Promise<TableInfo | null> {
  const columns = await rows<ColumnInfo & { nullable: string; extra: string }>(
    conn,
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, CHARACTER_SET_NAME AS charset, IS_NULLABLE AS nullable, EXTRA AS extra
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [db, table],
  );
  if (!columns.length) return null;
  const idx = await rows<{ idx: string; col: string; nonUnique: number; sub: number | null }>(
    conn,
    `SELECT INDEX_NAME AS idx, COLUMN_NAME AS col, NON_UNIQUE AS nonUnique, SEQ_IN_INDEX AS seq, SUB_PART AS sub
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
    [db, table],
  );
  const byIndex = new Map<string, { cols: string[]; unique: boolean; prefix: boolean }>();
  for (const r of idx) {
    let e = byIndex.get(r.idx);
    if (!e) byIndex.set(r.idx, (e = { cols: [], unique: Number(r.nonUnique) === 0, prefix: false }));
    e.cols.push(r.col);
    if (r.sub !== null) e.prefix = true;
  }
  const notNull = new Set(columns.filter((c) => c.nullable === 'NO').map((c) => c.name));
  let keyColumns: string[] | null = null;
  for (const [name, e] of byIndex) {
    if (!e.unique || e.prefix) continue;
    if (name === 'PRIMARY' || e.cols.every((c) => notNull.has(c))) {
      keyColumns = e.cols;
      break;
    }
  }
  const autoIncrement = columns.find((c) => /auto_increment/i.test(c.extra ?? ''))?.name;
  return { columns: columns.map(({ name, dataType, charset }) => ({ name, dataType, charset })), keyColumns, ...(autoIncrement ? { autoIncrement } : {}) };
}

const UTF8 = new Set(['utf8mb4', 'utf8mb3', 'utf8', 'binary']);

/** LOAD DATA LOCAL statement for fields in `columns` order (conversions for BIT and non-UTF-8 text). */
function loadDataSql(db: string, table: string, info: TableInfo, columns: string[], into = qualified(db, table)): string {
  const byName = new Map(info.columns.map((c) => [c.name, c]));
  const targets: string[] = [];
  const sets: string[] = [];
  columns.forEach((name, i) => {
    const c = byName.get(name);
    if (!c) throw new Error(`row has column ${name} that ${db}.${table} does not have at this point`);
    if (c.dataType === 'bit') {
      targets.push(`@v${i}`);
      sets.push(`${qid(name)} = CAST(@v${i} AS UNSIGNED)`);
    } else if (c.charset && !UTF8.has(c.charset)) {
      targets.push(`@v${i}`);
      sets.push(`${qid(name)} = CONVERT(@v${i} USING utf8mb4)`);
    } else targets.push(qid(name));
  });
  return (
    `LOAD DATA LOCAL INFILE 'pitr-rows' INTO TABLE ${into} CHARACTER SET binary ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${targets.join(', ')})` +
    (sets.length ? ` SET ${sets.join(', ')}` : '')
  );
}

/** Bulk-inserts rows (all with the same column list) with LOAD DATA LOCAL INFILE. */
export async function loadRows(conn: Connection, db: string, table: string, info: TableInfo, rows: Row[]): Promise<void> {
  if (!rows.length) return;
  const sql = loadDataSql(db, table, info, rows[0]!.columns);
  const stream = Readable.from(rowChunks(rows), { objectMode: false });
  await conn.query({ sql, infileStreamFactory: () => stream } as never);
}

/** Bulk-inserts rendered lines (LineRenderer, no LF) with LOAD DATA LOCAL INFILE, streamed in 1 MB chunks. */
export async function loadLines(conn: Connection, db: string, table: string, info: TableInfo, columns: string[], lines: Iterable<string>, into?: string): Promise<void> {
  if (Array.isArray(lines) && !lines.length) return;
  const sql = loadDataSql(db, table, info, columns, into);
  const stream = Readable.from(lineChunks(lines), { objectMode: false });
  await conn.query({ sql, infileStreamFactory: () => stream } as never);
}

function* lineChunks(lines: Iterable<string>): Generator<Buffer> {
  const CHUNK = 1 << 20;
  let buf = Buffer.allocUnsafe(CHUNK);
  let n = 0;
  for (const l of lines) {
    if (n + l.length + 1 > buf.length) {
      if (n) yield buf.subarray(0, n);
      buf = Buffer.allocUnsafe(Math.max(CHUNK, l.length + 1));
      n = 0;
    }
    n += buf.write(l, n, 'latin1');
    buf[n++] = 0x0a;
  }
  if (n) yield buf.subarray(0, n);
}

/**
 * Applies a line fold: deletes by key through a temporary table of the keys (one LOAD DATA and one
 * DELETE ... JOIN instead of statements with literal lists), then bulk inserts per column list.
 */
export async function applyLineFold(conn: Connection, db: string, table: string, info: TableInfo, fold: LineFoldResult): Promise<void> {
  const t = qualified(db, table);
  if (fold.deleteCount) {
    const keys = info.keyColumns!;
    const tmp = qualified(db, `pitr_keys_${table}`.slice(0, 64));
    const cols = keys.map(qid).join(', ');
    await conn.query(`DROP TEMPORARY TABLE IF EXISTS ${tmp}`);
    // Same column types and collations as the table: the join matches keys as its unique index does.
    await conn.query(`CREATE TEMPORARY TABLE ${tmp} ENGINE=InnoDB AS SELECT ${cols} FROM ${t} WHERE 0`);
    try {
      await loadLines(conn, db, table, info, keys, fold.deleteKeys(), tmp);
      await conn.query(`DELETE ${t} FROM ${t} JOIN ${tmp} USING (${cols})`);
    } finally {
      await conn.query(`DROP TEMPORARY TABLE IF EXISTS ${tmp}`);
    }
  }
  for (const ins of fold.inserts) if (ins.count) await loadLines(conn, db, table, info, ins.cols.columns, ins.lines());
  if (fold.counterMax !== undefined) await raiseCounter(conn, t, fold.counterMax);
}

/**
 * Raises a table's AUTO_INCREMENT past the highest value the history inserted, as the source's
 * counter moved, even for rows deleted since (InnoDB never lowers it below max(column) + 1).
 */
async function raiseCounter(conn: Connection, t: string, max: string): Promise<void> {
  const next = BigInt(max) + 1n;
  if (next > 18446744073709551615n) return;
  await conn.query(`ALTER TABLE ${t} AUTO_INCREMENT = ${next}`);
}

function* rowChunks(rows: Row[]): Generator<Buffer> {
  let parts: Buffer[] = [];
  for (const r of rows) {
    for (let i = 0; i < r.values.length; i++) {
      if (i) parts.push(TAB);
      pushLoadField(parts, r.values[i]!);
    }
    parts.push(LF);
    if (parts.length > 4096) {
      yield Buffer.concat(parts);
      parts = [];
    }
  }
  if (parts.length) yield Buffer.concat(parts);
}

/** Applies one fold result: deletions first, then bulk inserts grouped by column list. */
export async function applyFold(conn: Connection, db: string, table: string, info: TableInfo, fold: FoldResult): Promise<void> {
  const t = qualified(db, table);
  if (fold.deleteKeys.length && info.keyColumns) {
    const cols = info.keyColumns.map(qid).join(', ');
    for (let i = 0; i < fold.deleteKeys.length; i += 1000) {
      const part = fold.deleteKeys.slice(i, i + 1000);
      const tuples = part.map((k: Value[]) => `(${k.map(sqlLiteral).join(', ')})`).join(', ');
      await conn.query(`DELETE FROM ${t} WHERE (${cols}) IN (${tuples})`);
    }
  }
  for (const { row, count } of fold.deleteImages) {
    const where = row.columns.map((c, i) => `${qid(c)} <=> ${sqlLiteral(row.values[i]!)}`).join(' AND ');
    await conn.query(`DELETE FROM ${t} WHERE ${where} LIMIT ${count}`);
  }
  // Records decode their own column arrays: group by the list's content, not its identity.
  const groups = new Map<string, Row[]>();
  let lastCols: string[] | undefined;
  let lastGroup: Row[] | undefined;
  for (const r of fold.inserts) {
    if (r.columns !== lastCols) {
      const sig = r.columns.join('\u0000');
      lastGroup = groups.get(sig);
      if (!lastGroup) groups.set(sig, (lastGroup = []));
      lastCols = r.columns;
    }
    lastGroup!.push(r);
  }
  for (const rows of groups.values()) await loadRows(conn, db, table, info, rows);
}
