/**
 * Lines drawn on a terminal and drawn again in place (serve's status lines, `check --watch`'s
 * table): how to take them away before the next drawing.
 */

/**
 * The escapes that erase the `rows` rows above the cursor and the cursor's own row, and
 * leave the cursor in the first column of the first of them. From the first column: a ^C the
 * terminal echoed may have moved the cursor. Each row is erased on its own (EL 2), not with
 * one erase-below (ED): tmux (its scroll-on-clear) keeps the whole screen in its scrollback
 * when ED starts at the top left corner, so lines redrawn at the top of the screen would
 * leave a copy there each time.
 */
export function eraseRowsAbove(rows: number): string {
  if (rows <= 0) return '';
  return `\r\x1b[${rows}A${'\x1b[2K\x1b[1B'.repeat(rows)}\x1b[2K\x1b[${rows}A`;
}
