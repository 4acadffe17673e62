// The manifest and the command table never drift apart (plain Node: reads both as text).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const tableSource = readFileSync(join(root, 'src/extension/commands.ts'), 'utf8');

/** Keys of the COMMANDS object literal in src/extension/commands.ts. */
function tableIds(source: string): string[] {
  const body = /export const COMMANDS[^=]*=\s*\{([\s\S]*?)\n\};/.exec(source)?.[1];
  assert.ok(body, 'COMMANDS table not found in commands.ts');
  return [...body.matchAll(/^ {2}'([\w.]+)':/gm)].map((m) => m[1]).sort();
}

const declared: string[] = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();

test('every command in package.json has a handler in the table, and vice versa', () => {
  assert.ok(declared.length > 0);
  assert.deepEqual(tableIds(tableSource), declared);
});

test('the table parser sees an added entry (so the test above can fail)', () => {
  const extra = tableSource.replace(
    'export const COMMANDS: Record<string, CommandHandler> = {\n',
    "export const COMMANDS: Record<string, CommandHandler> = {\n  'mlLoop.extra': () => 1,\n",
  );
  assert.ok(tableIds(extra).includes('mlLoop.extra'));
});

test('every command has the ML Loop category and a codicon', () => {
  for (const c of pkg.contributes.commands) {
    assert.equal(c.category, 'ML Loop', c.command);
    assert.match(c.icon, /^\$\([a-z-]+\)$/, c.command);
  }
});

test('menus only name declared commands; item-only commands are hidden from the palette', () => {
  const menus = pkg.contributes.menus as Record<string, { command: string; when?: string }[]>;
  for (const [menu, items] of Object.entries(menus)) {
    for (const item of items) assert.ok(declared.includes(item.command), `${menu}: ${item.command} is not declared`);
  }
  const itemOnly = new Set(menus['view/item/context'].map((i) => i.command));
  for (const id of itemOnly) {
    const inViewTitle = menus['view/title'].some((i) => i.command === id);
    if (inViewTitle) continue;
    assert.ok(
      menus.commandPalette.some((i) => i.command === id && i.when === 'false'),
      `${id} needs a selected item but shows in the palette`,
    );
  }
});

test('the walkthrough covers the whole cycle, each step with its markdown in media/', () => {
  const steps = pkg.contributes.walkthroughs[0].steps as { id: string; media: { markdown: string } }[];
  assert.deepEqual(
    steps.map((s) => s.id),
    ['scope', 'data', 'train', 'diagnose', 'errorAnalysis', 'deploy', 'monitor'],
  );
  for (const s of steps)
    assert.ok(readFileSync(join(root, s.media.markdown), 'utf8').startsWith('# '), s.media.markdown);
});

test('jsonValidation points at the schema kept in the repo', () => {
  for (const v of pkg.contributes.jsonValidation) {
    const schema = JSON.parse(readFileSync(join(root, v.url), 'utf8'));
    assert.equal(typeof schema, 'object');
  }
});
