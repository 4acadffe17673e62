// How raw cell text is read: which strings mean "missing", and which are numbers.

/** Cell values that mean "missing" (besides the empty string), as written by pandas, R and SQL exports. */
export const MISSING_TOKENS: ReadonlySet<string> = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None']);

export function isMissing(raw: string): boolean {
  // Hot path (every cell of every file): decide from the first character before any Set lookup.
  const len = raw.length;
  if (len === 0) return true;
  const c = raw.charCodeAt(0);
  if (c <= 32) return raw.trim() === '';
  if (len > 4 || (c >= 48 && c <= 57) || c === 45) return false;
  return MISSING_TOKENS.has(raw);
}

const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
  1e21, 1e22,
];

/** The number a cell holds, or NaN when it is not a finite decimal number ("1e3", " 2.5 " and "-0" are). */
export function parseNumber(raw: string): number {
  const len = raw.length;
  if (len === 0) return NaN;
  const c = raw.charCodeAt(0);
  if (!((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 32)) return NaN;
  // Fast path for plain decimals ([-]digits[.digits], ≤ 15 significant digits): the digits as an exact
  // integer divided by an exact power of ten is the correctly rounded double (Clinger's fast path),
  // several times faster than the general string-to-number conversion on the cells of a large file.
  let i = c === 45 ? 1 : 0;
  let mantissa = 0;
  let digits = 0;
  let scale = -1;
  for (; i < len; i++) {
    const d = raw.charCodeAt(i) - 48;
    if (d >= 0 && d <= 9) {
      mantissa = mantissa * 10 + d;
      digits++;
      if (scale >= 0) scale++;
    } else if (d === -2 && scale < 0)
      scale = 0; // '.'
    else break;
  }
  if (i === len && digits > 0 && digits <= 15) {
    const v = scale > 0 ? mantissa / POW10[scale] : mantissa;
    return c === 45 ? -v : v;
  }
  // Number('  ') is 0 and Number('0x1f') is 31: neither is a number in a data file.
  if (c === 32 && raw.trim() === '') return NaN;
  if (c === 48 && len > 2) {
    const x = raw.charCodeAt(1) | 0x20; // lower-case letter
    if (x === 120 || x === 98 || x === 111) return NaN; // 0x.., 0b.., 0o..
  }
  const v = +raw;
  return v - v === 0 ? v : NaN; // finite
}

/**
 * The shortest decimal text that reads back as the same float32 (`4.9`, not `4.900000095367432`).
 * Rows held as Float32Array and written out again keep the text they were read from (for the
 * usual short decimals), so their content-hash example ids match those of the same rows elsewhere.
 */
export function float32Text(v: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  const f = Math.fround(v);
  for (let p = 1; p < 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return String(s);
  }
  return String(Number(f.toPrecision(9)));
}
