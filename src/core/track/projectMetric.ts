// The project's metric, read straight from mlloop.json (no schema, no data): enough to label runs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
/** The project's metric from DIR/mlloop.json (comments allowed), for labels; undefined when unreadable. */
export function readProjectMetric(projectDir: string): string | undefined {
  try {
    const spec = parseJsonc(readFileSync(join(projectDir, 'mlloop.json'), 'utf8')) as { metric?: unknown } | undefined;
    return typeof spec?.metric === 'string' ? spec.metric : undefined;
  } catch {
    return undefined;
  }
}
