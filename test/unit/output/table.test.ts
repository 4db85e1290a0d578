import { describe, expect, it } from 'vitest';
import { fitWidths, nameColumns, renderTable, type Column } from '../../../src/output/table.js';
import { printableNames, rowName } from '../../../src/output/names.js';
import { RefusedError } from '../../../src/errors.js';

type Row = { pool: string; name: string; path: string };
const columns: Column<Row>[] = [
  { header: 'POOL', value: (r) => r.pool, name: true },
  { header: 'NAME', value: (r) => r.name, name: true },
  { header: 'PATH', value: (r) => r.path },
  { header: 'EXTRA', value: () => 'x', wide: true },
];
const rows: Row[] = [{ pool: 'default', name: 'a-very-long-volume-name.qcow2', path: '/var/lib/libvirt/images/a-very-long-volume-name.qcow2' }];

describe('renderTable', () => {
  it('piped (no width): every cell in full, wide columns hidden', () => {
    const out = renderTable(columns, rows, null);
    expect(out).toContain(rows[0]!.path);
    expect(out).not.toContain('EXTRA');
  });

  it('on a 60-column terminal: the free-text column is shortened with …, the name columns never', () => {
    const out = renderTable(columns, rows, null, { width: 60, wide: false });
    for (const line of out.trimEnd().split('\n')) expect([...line].length).toBeLessThanOrEqual(60);
    expect(out).toContain('a-very-long-volume-name.qcow2');
    expect(out).toMatch(/\/var\/lib\S*…/);
  });

  it('--wide: the hidden columns too, nothing shortened even on a terminal', () => {
    const out = renderTable(columns, rows, null, { width: 40, wide: true });
    expect(out).toContain('EXTRA');
    expect(out).toContain(rows[0]!.path);
  });

  it('fitWidths takes from the widest shrinkable column down to its floor', () => {
    expect(fitWidths([10, 50, 20], [4, 6, 6], [true, false, false], 50)).toEqual([10, 18, 18]);
    expect(fitWidths([10, 8], [4, 8], [true, false], 5)).toEqual([10, 8]);
  });
});

describe('-o name', () => {
  it('joins the name columns with /', () => {
    expect(rowName(nameColumns(columns), rows[0]!)).toBe('default/a-very-long-volume-name.qcow2');
  });
  it('refuses a name with a newline before printing anything', () => {
    expect(() => printableNames(['ok', 'bad\nname'])).toThrow(RefusedError);
    expect(() => printableNames(['ok', 'bad\nname'])).toThrow(/-o name: the name \$'bad\\x0aname' holds a control character/);
  });
});
