import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classBalanceChart,
  columnChart,
  formatNumber,
  parseCssColor,
  photoPixels,
  samplePixels,
} from '../../../webview/data/charts';
import type { ThemeColors } from '../../../webview/shared/theme';
import { sampleProfile } from '../extension/fixtures/profile';

const colors: ThemeColors = {
  foreground: '#cccccc',
  muted: '#999999',
  grid: '#444444',
  background: '#1e1e1e',
  series: ['#111111', '#222222', '#333333', '#444444', '#555555', '#666666'],
  error: '#f00',
  warning: '#ff0',
  kind: 'dark',
};

test('a numeric column becomes a histogram with one bar per bin, labelled by bin range', () => {
  const c = columnChart(sampleProfile().columns[0], colors);
  assert.equal(c.type, 'bar');
  assert.deepEqual(c.data.labels, ['0–8', '8–16']);
  assert.deepEqual(c.data.datasets[0].data, [4, 2]);
  assert.equal(c.data.datasets[0].backgroundColor, colors.series[0]);
  assert.equal(c.options?.animation, false);
});

test('a categorical column becomes horizontal bars of its top values; the target has its own colour', () => {
  const profile = sampleProfile();
  const c = columnChart(profile.columns[1], colors);
  assert.equal(c.options?.indexAxis, 'y');
  assert.deepEqual(c.data.labels, ['red', 'blue']);
  assert.deepEqual(c.data.datasets[0].data, [3, 2]);
  assert.equal(columnChart(profile.columns[2], colors).data.datasets[0].backgroundColor, colors.series[1]);
});

test('class balance stacks train, dev and test per class; absent for regression', () => {
  const profile = sampleProfile();
  const c = classBalanceChart(profile, colors)!;
  assert.deepEqual(c.data.labels, ['0', '1']);
  assert.deepEqual(
    c.data.datasets.map((d) => [d.label, d.data]),
    [
      ['train', [2, 2]],
      ['dev', [1, 0]],
      ['test', [0, 1]],
    ],
  );
  assert.equal((c.options?.scales?.x as { stacked?: boolean }).stacked, true);
  delete profile.classBalance;
  assert.equal(classBalanceChart(profile, colors), undefined);
});

test('grey image samples map their own range to the alpha of the theme foreground', () => {
  const px = samplePixels([0, 16, 8, 4], 2, 2, 1, [200, 100, 50]);
  assert.deepEqual([...px.slice(0, 4)], [200, 100, 50, 0]);
  assert.deepEqual([...px.slice(4, 8)], [200, 100, 50, 255]);
  assert.equal(px[11], 128);
});

test('an image file is drawn as it is: opaque, grey over R, G and B, a dark picture left dark (not stretched)', () => {
  const grey = photoPixels([10, 20, 30, 40], 2, 2, 1);
  assert.deepEqual([...grey], [10, 10, 10, 255, 20, 20, 20, 255, 30, 30, 30, 255, 40, 40, 40, 255]);
  const rgb = photoPixels([255, 0, 0, 0, 128, 255], 2, 1, 3);
  assert.deepEqual([...rgb], [255, 0, 0, 255, 0, 128, 255, 255]);
  // The same dark values through samplePixels fill the whole range: the darkness is gone.
  assert.equal(samplePixels([10, 20, 30, 40], 2, 2, 1, [0, 0, 0])[15], 255);
});

test('numbers and CSS colours are read the way charts need them', () => {
  assert.equal(formatNumber(12), '12');
  assert.equal(formatNumber(0.123456), '0.123');
  assert.equal(formatNumber(1234567.8), '1.23e+6');
  assert.deepEqual(parseCssColor('#fff'), [255, 255, 255]);
  assert.deepEqual(parseCssColor('#3794ffcc'), [55, 148, 255]);
  assert.deepEqual(parseCssColor('rgba(10, 20, 30, 0.5)'), [10, 20, 30]);
});
