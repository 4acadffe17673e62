// The one chart palette and its helpers (src/core/charts/style): 20 classes or runs get 20 distinct
// colours with VS Code's default dark and light chart colours, axes and options carry the theme.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  axis,
  baseOptions,
  distinctSeries,
  EXTRA_SERIES,
  seriesColor,
  withAlpha,
  type ChartPalette,
} from '../../../src/core/charts/style';

// --vscode-charts-{blue,orange,green,purple,yellow,red} of the default Dark+ and Light+ themes.
const DARK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#cca700', '#f14c4c'];
const LIGHT = ['#1a85ff', '#d18616', '#388a34', '#652d90', '#bf8803', '#e51400'];
const palette = (series: string[]): ChartPalette => ({
  foreground: '#ccc',
  muted: '#999',
  grid: '#444',
  series,
  warning: '#cca700',
});

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const distance = (a: string, b: string) => Math.hypot(...rgb(a).map((v, i) => v - rgb(b)[i]));

for (const [theme, series] of [
  ['dark', DARK],
  ['light', LIGHT],
] as const) {
  test(`20 series get 20 distinct colours with the ${theme} theme's chart colours`, () => {
    const p = palette(series);
    const colors = Array.from({ length: 20 }, (_, i) => seriesColor(p, i));
    assert.deepEqual(colors.slice(0, 6), series, 'the theme colours come first');
    assert.equal(new Set(colors.map((c) => c.toLowerCase())).size, 20);
    assert.equal(distinctSeries(p), 20);
    // Each added colour stands apart from every other colour of the 20 (RGB distance; the theme's own
    // orange and yellow are closer to each other than this, which is the theme's choice).
    for (const extra of EXTRA_SERIES) {
      for (const other of colors)
        if (other !== extra)
          assert.ok(
            distance(extra, other) >= 45,
            `${extra} is too close to ${other} (${distance(extra, other).toFixed(0)})`,
          );
    }
  });
}

test('beyond the distinct colours, series get generated hues that differ from one another', () => {
  const p = palette(DARK);
  const more = Array.from({ length: 10 }, (_, i) => seriesColor(p, 20 + i));
  assert.ok(more.every((c) => c.startsWith('hsl(')));
  assert.equal(new Set(more).size, 10);
});

test('axes and options take the theme colours; an empty axis title is hidden', () => {
  const p = palette(DARK);
  const x = axis(p, 'epoch', { beginAtZero: true }) as {
    title: { display: boolean; text: string; color: string };
    ticks: { color: string };
    grid: { color: string };
    beginAtZero: boolean;
  };
  assert.deepEqual(
    [x.title.display, x.title.text, x.title.color, x.ticks.color, x.grid.color, x.beginAtZero],
    [true, 'epoch', '#ccc', '#999', '#444', true],
  );
  assert.equal((axis(p, '') as { title: { display: boolean } }).title.display, false);
  const o = baseOptions(p, { title: 'Loss', legend: false, x, y: axis(p, 'loss') });
  assert.equal(o.animation, false);
  assert.deepEqual(o.plugins?.title, { display: true, text: 'Loss', color: '#ccc' });
  assert.equal(o.plugins?.legend?.display, false);
  assert.equal(baseOptions(p, { x, y: x }).plugins?.title, undefined);
});

test('withAlpha turns #rgb and #rrggbb into rgba() and leaves other colours alone', () => {
  assert.equal(withAlpha('#112233', 0.5), 'rgba(17, 34, 51, 0.5)');
  assert.equal(withAlpha('#abc', 1), 'rgba(170, 187, 204, 1)');
  assert.equal(withAlpha('hsl(10, 70%, 50%)', 0.5), 'hsl(10, 70%, 50%)');
});
