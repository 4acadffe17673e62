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

/** The number a cell holds, or NaN when it is not a finite decimal number ("1e3", " 2.5 " and "-0" are). */
export function parseNumber(raw: string): number {
  // Number('') is 0 and Number('0x1f') is 31: neither is a number in a data file.
  const len = raw.length;
  if (len === 0) return NaN;
  const c = raw.charCodeAt(0);
  if (!((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 32)) return NaN;
  if (c === 48 && len > 2) {
    const x = raw.charCodeAt(1) | 0x20; // lower-case letter
    if (x === 120 || x === 98 || x === 111) return NaN; // 0x.., 0b.., 0o..
  }
  const v = +raw;
  return v - v === 0 ? v : NaN; // finite
}
