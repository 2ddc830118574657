// Plain renderings of result sets for the terminal and for pipes: an aligned table, TSV. Pure.

export function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Aligned table with a header rule, as the mariadb client prints it. */
export function renderTable(columns: string[], rows: unknown[][]): string {
  const cells = rows.map((r) => r.map((v) => cellText(v).replace(/\n/g, '\\n')));
  const width = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const rule = '+' + width.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const line = (vals: string[]) => '| ' + vals.map((v, i) => v.padEnd(width[i]!)).join(' | ') + ' |';
  const out = [rule, line(columns), rule, ...cells.map(line), rule];
  return out.join('\n') + `\n${rows.length} row${rows.length === 1 ? '' : 's'}\n`;
}

/** Tab-separated, header first; tabs, newlines and backslashes escaped as the mariadb client does. */
export function renderTsv(columns: string[], rows: unknown[][]): string {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
  const lines = [columns.map(esc).join('\t'), ...rows.map((r) => r.map((v) => (v === null || v === undefined ? 'NULL' : esc(cellText(v)))).join('\t'))];
  return lines.join('\n') + '\n';
}
