/**
 * A table for a person at a terminal, written as rows arrive: the first `sample` rows fix the
 * column widths (so memory stays bounded however long the list), the text columns give way
 * when the terminal is narrower (names cut with `…`, never wrapped), and columns that still do
 * not fit are left out, rightmost first. Numbers are right-aligned.
 *
 * Cells are made safe first: control characters in a name are shown as `\xNN`.
 */
import type { Paint } from '../ui/colour.js';
import { humanLine } from '../ui/terminalText.js';

export interface TableColumn {
  label: string;
  align: 'left' | 'right';
  /** The cell's text for a row's value. */
  render(value: unknown): string;
}

/**
 * A text column never gives way below this many characters (or its label's width); the
 * first (the name) keeps more, and columns to its right are left out before it is cut shorter.
 */
const MIN_TEXT_WIDTH = 8;
const MIN_FIRST_WIDTH = 24;
const GAP = '  ';

/** Characters as a terminal counts them (code points; wide characters are not measured). */
const widthOf = (text: string) => {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
};

/** `text` in at most `width` characters, `…` as the last one when it was cut. */
export function cut(text: string, width: number): string {
  if (widthOf(text) <= width) return text;
  return `${Array.from(text)
    .slice(0, Math.max(0, width - 1))
    .join('')}…`;
}

export class TableWriter {
  private pending: string[][] | undefined = [];
  private widths: number[] = [];
  private shown: number[] = [];
  /** The columns left out because the terminal is too narrow for them (labels). */
  dropped: string[] = [];

  constructor(
    private readonly columns: TableColumn[],
    private readonly options: { width: number | undefined; paint: Paint; sample: number },
  ) {}

  /** A row's values in column order; returns what to write now (nothing while sampling). */
  add(values: unknown[]): string {
    const cells = this.columns.map((column, i) => humanLine(column.render(values[i])));
    if (this.pending === undefined) return this.line(cells);
    this.pending.push(cells);
    return this.pending.length >= this.options.sample ? this.release() : '';
  }

  /** What is left to write when the rows end: the header and the rows sampled, if not yet. */
  end(): string {
    return this.pending === undefined ? '' : this.release();
  }

  private release(): string {
    const rows = this.pending ?? [];
    this.pending = undefined;
    this.fit(rows);
    const header = this.line(this.columns.map((column) => column.label));
    return `${this.options.paint.bold(header.replace(/\n$/, ''))}\n${rows.map((r) => this.line(r)).join('')}`;
  }

  private fit(rows: string[][]): void {
    const natural = this.columns.map((column, i) =>
      Math.max(widthOf(column.label), ...rows.map((cells) => widthOf(cells[i] ?? ''))),
    );
    this.widths = [...natural];
    this.shown = this.columns.map((_, i) => i);
    const limit = this.options.width;
    if (limit === undefined) return;
    const total = () =>
      this.shown.reduce((sum, i) => sum + (this.widths[i] ?? 0), 0) + GAP.length * (this.shown.length - 1);
    const floor = (i: number) =>
      Math.max(
        Math.min(i === 0 ? MIN_FIRST_WIDTH : MIN_TEXT_WIDTH, this.widths[i] ?? 0),
        widthOf(this.columns[i]?.label ?? ''),
      );
    for (;;) {
      // Each try starts again from the natural widths, with one column fewer than the last.
      this.widths = [...natural];
      let excess = total() - limit;
      // The widest text column gives a character at a time, so long names share the cut.
      while (excess > 0) {
        const widest = this.shown
          .filter((i) => this.columns[i]?.align === 'left' && (this.widths[i] ?? 0) > floor(i))
          .sort((a, b) => (this.widths[b] ?? 0) - (this.widths[a] ?? 0))[0];
        if (widest === undefined) break;
        this.widths[widest] = (this.widths[widest] ?? 0) - 1;
        excess -= 1;
      }
      if (excess <= 0) return;
      if (this.shown.length <= 1) {
        this.widths[0] = Math.max(1, limit);
        return;
      }
      const gone = this.shown.pop() as number;
      this.dropped.unshift(this.columns[gone]?.label ?? '');
    }
  }

  private line(cells: string[]): string {
    const parts = this.shown.map((i) => {
      const width = this.widths[i] ?? 0;
      const column = this.columns[i];
      const cell = cells[i] ?? '';
      // A number is never cut: a later, longer one pushes the rest of its row right.
      if (column?.align === 'right') return cell.padStart(width);
      const shown = cut(cell, width);
      return shown.padEnd(width + shown.length - widthOf(shown));
    });
    return `${parts.join(GAP).trimEnd()}\n`;
  }
}

const trim = (n: number, digits: number) => n.toFixed(digits).replace(/\.0+$/, '');

/** 0, 0.4, 12, 1.2k, 35k, 1.2M: a rate per second at a glance. */
export function humanRate(n: number): string {
  if (n === 0) return '0';
  if (n < 10) return trim(n, 1);
  if (n < 1000) return String(Math.round(n));
  if (n < 1_000_000) return `${trim(n / 1000, n < 10_000 ? 1 : 0)}k`;
  return `${trim(n / 1_000_000, n < 10_000_000 ? 1 : 0)}M`;
}

/** 512 B, 1.5 KiB, 34 MiB, 2.1 GiB. */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? String(Math.round(value)) : trim(value, value < 10 ? 1 : 0)} ${units[unit]}`;
}
