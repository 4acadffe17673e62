// Shared shapes of the extension ⇄ webview channel. Each webview has its own module beside this
// one (data.ts, …) with its message unions and validators; both sides import it.
//
// Rules every panel follows:
// - the webview posts `{ type: 'ready' }` once its script runs; the host posts nothing before;
// - the host sends complete snapshots, so a reloaded or hidden webview never shows half a state;
//   a panel whose snapshot is large (Error Analysis: 50,000 dev rows) may follow it with deltas
//   that name the snapshot they apply to, and a webview ignores a delta of a snapshot it lacks;
// - each side validates what arrives before acting on it (a webview is a browser page).

/**
 * The meta element that carries a panel's restore key (what it shows, as JSON) to its webview, which
 * keeps it in its VS Code state: the panel's serializer reads it back after a window reload.
 */
export const RESTORE_KEY_META = 'mlloop-panel';

export interface ReadyMessage {
  type: 'ready';
}

export type Validator<T> = (value: unknown) => value is T;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'number');
}

export function isArrayOf<T>(value: unknown, item: Validator<T>): value is T[] {
  return Array.isArray(value) && value.every(item);
}

export function hasType<K extends string>(value: unknown, type: K): value is Record<string, unknown> & { type: K } {
  return isRecord(value) && value.type === type;
}

export function isReadyMessage(value: unknown): value is ReadyMessage {
  return hasType(value, 'ready');
}
