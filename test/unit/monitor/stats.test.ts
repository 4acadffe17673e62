// The drift statistics: against values worked out by hand, against SciPy (Debian's /usr/bin/python3)
// on generated samples, and the streaming accumulators against the sample statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mulberry32 } from '../../../src/core/data/prng';
import {
  chi2Sf,
  chiSquare,
  jensenShannon,
  ks2samp,
  ksPValue,
  normalizedWasserstein,
  psi,
  std,
  wasserstein,
} from '../../../src/core/monitor/stats';
import {
  CategoricalAccumulator,
  NumericAccumulator,
  categoricalDrift,
  numericDrift,
} from '../../../src/core/monitor/accumulate';
import { categoricalReference, numericReference } from '../../../src/core/train/reference';
import { DEFAULT_THRESHOLDS } from '../../../src/core/monitor';

const close = (a: number, b: number, tol: number, what = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (tolerance ${tol})`);

function normal(rand: () => number, n: number, mean = 0, sd = 1): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    out.push(mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  return out;
}

test('KS on known samples: D is the largest ECDF gap; identical samples give D 0 and p 1', () => {
  // F_a − F_b at 1..8: .2, .4, .6−1/6, .8−2/6, 1−3/6, …: largest 0.5 at 5.
  const r = ks2samp([1, 2, 3, 4, 5], [3, 4, 5, 6, 7, 8]);
  close(r.statistic, 0.5, 1e-12);
  const same = ks2samp([1, 2, 3], [3, 2, 1]);
  assert.equal(same.statistic, 0);
  assert.equal(same.pValue, 1);
  // Kolmogorov's distribution: P(K > 1.3581) ≈ 0.05 (the classic 5 % critical value).
  close(ksPValue(1.3581 / Math.sqrt(5000), 10000, 10000), 0.05, 0.002);
  // NaNs (missing values) are ignored.
  close(ks2samp([1, NaN, 2, 3, 4, 5], [3, 4, 5, 6, 7, 8]).statistic, 0.5, 1e-12);
});

test('Wasserstein, PSI, chi-squared and Jensen–Shannon on known values', () => {
  close(wasserstein([0, 1, 3], [5, 6, 8]), 5, 1e-12); // a shift by 5
  close(wasserstein([0, 1], [0, 0, 1]), 1 / 6, 1e-12); // ∫|F_a − F_b| = (2/3 − 1/2)·1
  close(normalizedWasserstein(1, 2), 0.5, 1e-12);
  assert.equal(normalizedWasserstein(1, 0), 1000, 'std floored at 0.001 as Evidently');
  close(std([1, 2, 3, 4]), Math.sqrt(1.25), 1e-12);
  // (0.25 − 0.5)·ln(0.5) + (0.75 − 0.5)·ln(1.5)
  close(psi([50, 50], [25, 75]), 0.25 * Math.log(2) + 0.25 * Math.log(1.5), 1e-12);
  assert.equal(psi([1, 2, 3], [1, 2, 3]), 0);
  close(chi2Sf(3.841458820694124, 1), 0.05, 1e-9);
  close(chi2Sf(9.487729036781154, 4), 0.05, 1e-9);
  const c = chiSquare([10, 20, 30], [20, 20, 20]);
  close(c.statistic, 10, 1e-12);
  close(c.pValue, Math.exp(-5), 1e-12); // df 2: sf(x) = e^{−x/2}
  close(jensenShannon([1, 0], [0, 1]), Math.sqrt(Math.log(2)), 1e-12);
  assert.equal(jensenShannon([1, 2], [2, 4]), 0);
});

const scipy = spawnSync('/usr/bin/python3', ['-c', 'import scipy.stats, scipy.spatial'], { encoding: 'utf8' });
const scipyMissing =
  scipy.status !== 0
    ? `Debian's SciPy is not importable from /usr/bin/python3: ${(scipy.stderr || scipy.error?.message || '').trim().split('\n').pop()}`
    : false;

test(
  'against SciPy on generated samples: ks_2samp, wasserstein_distance, chisquare, jensenshannon',
  { skip: scipyMissing },
  () => {
    const rand = mulberry32(42);
    const cases = [
      { a: normal(rand, 500), b: normal(rand, 400, 0.1, 1.1) },
      { a: normal(rand, 2000, 5, 2), b: normal(rand, 3000, 5.5, 2) },
      { a: normal(rand, 300).map((x) => Math.round(x * 2)), b: normal(rand, 250, 0.3).map((x) => Math.round(x * 2)) },
    ];
    const obs = [12, 30, 45, 13];
    const exp = [10, 35, 40, 15];
    const code = `
import json, sys
from scipy.stats import ks_2samp, wasserstein_distance, chisquare
from scipy.spatial.distance import jensenshannon
d = json.load(sys.stdin)
out = []
for c in d['cases']:
    k = ks_2samp(c['a'], c['b'], method='asymp')
    out.append({'ks': float(k.statistic), 'p': float(k.pvalue), 'w': float(wasserstein_distance(c['a'], c['b']))})
cs = chisquare(d['obs'], d['exp'])
print(json.dumps({'cases': out, 'chi': [float(cs.statistic), float(cs.pvalue)], 'js': float(jensenshannon(d['obs'], d['exp']))}))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', code], {
      input: JSON.stringify({ cases, obs, exp }),
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const py = JSON.parse(r.stdout);
    cases.forEach((c, i) => {
      const ks = ks2samp(c.a, c.b);
      close(ks.statistic, py.cases[i].ks, 1e-12, `case ${i} KS D`);
      // SciPy's asymptotic p uses the exact one-sample distribution at round(n·m/(n+m)); ours Kolmogorov's limit with Stephens' correction.
      close(ks.pValue, py.cases[i].p, Math.max(0.01, 0.1 * py.cases[i].p), `case ${i} KS p`);
      close(wasserstein(c.a, c.b), py.cases[i].w, 1e-9, `case ${i} Wasserstein`);
    });
    const cs = chiSquare(obs, exp);
    close(cs.statistic, py.chi[0], 1e-9);
    close(cs.pValue, py.chi[1], 1e-9);
    close(jensenShannon(obs, exp), py.js, 1e-12);
  },
);

test('the streaming accumulator gives the sample KS exactly and the sample Wasserstein closely, against a reference of distinct values', () => {
  const rand = mulberry32(7);
  for (const [shift, n] of [
    [0, 800],
    [0.3, 600],
    [1, 5000],
  ] as const) {
    const ref = normal(rand, 1500).map((x) => Math.round(x * 100) / 100);
    const cur = normal(rand, n, shift).map((x) => Math.round(x * 100) / 100);
    const r = numericReference('x', ref);
    assert.ok(r.points.length < 2000, 'all distinct values kept');
    const acc = new NumericAccumulator(r);
    cur.forEach((v) => acc.add(v));
    acc.add(NaN);
    assert.equal(acc.missing, 1);
    const ks = ks2samp(ref, cur);
    close(acc.ks().statistic, ks.statistic, 1e-12, `shift ${shift} KS`);
    close(acc.ks().pValue, ks.pValue, 1e-12, `shift ${shift} KS p`);
    const w = wasserstein(ref, cur);
    close(acc.wasserstein(), w, 0.02 * w + 1e-3, `shift ${shift} Wasserstein`);
    const d = numericDrift(acc, DEFAULT_THRESHOLDS);
    assert.equal(d.test, n <= 1000 ? 'ks' : 'wasserstein');
    assert.equal(
      d.drifted,
      shift >= 0.3,
      `shift ${shift} drifted=${d.drifted} (${d.test} ${d.statistic}, p ${d.pValue})`,
    );
    close(d.missingRate, 1 / (n + 1), 1e-12);
  }
});

test('a large reference is summarized by weighted quantiles; KS against it stays within 1/points of the exact one', () => {
  const rand = mulberry32(9);
  const ref = normal(rand, 50_000);
  const cur = normal(rand, 3000, 0.2);
  const r = numericReference('x', ref);
  assert.ok(r.points.length <= 2000);
  assert.equal(
    r.weights.reduce((a, b) => a + b, 0),
    50_000,
  );
  assert.equal(r.points[0], Math.min(...ref));
  assert.equal(r.points[r.points.length - 1], Math.max(...ref));
  const acc = new NumericAccumulator(r);
  cur.forEach((v) => acc.add(v));
  close(acc.ks().statistic, ks2samp(ref, cur).statistic, 2 / r.points.length);
  close(acc.wasserstein(), wasserstein(ref, cur), 0.01);
});

test('PSI on deciles; values outside the training range; Evidently thresholds decide', () => {
  const ref = Array.from({ length: 1000 }, (_, i) => i / 10);
  const r = numericReference('x', ref);
  assert.equal(r.psiEdges.length, 9);
  const same = new NumericAccumulator(r);
  ref.forEach((v) => same.add(v));
  close(same.psi(), 0, 1e-12);
  const shifted = new NumericAccumulator(r);
  ref.forEach((v) => shifted.add(v + 50));
  assert.ok(shifted.psi() > 0.2);
  close(shifted.outOfRange(), 0.5, 1e-3); // 50 … 149.9: the half above 99.9
  const d = numericDrift(shifted, DEFAULT_THRESHOLDS);
  assert.ok(d.psiDrifted && d.drifted);
  close(d.outOfRangeRate!, shifted.outOfRange(), 0);
});

test('categorical: chi-squared below the large-window size, Jensen–Shannon above; unseen categories reported', () => {
  const ref = categoricalReference('c', [
    ...Array(600).fill('a'),
    ...Array(300).fill('b'),
    ...Array(100).fill('c'),
    '',
    '',
  ]);
  assert.equal(ref.missing, 2);
  const small = new CategoricalAccumulator(ref);
  for (const [c, k] of [
    ['a', 60],
    ['b', 30],
    ['c', 10],
  ] as const)
    for (let i = 0; i < k; i++) small.add(c);
  let d = categoricalDrift(small, DEFAULT_THRESHOLDS);
  assert.equal(d.test, 'chisquare');
  close(d.statistic, 0, 1e-12);
  assert.equal(d.drifted, false);
  const shifted = new CategoricalAccumulator(ref);
  for (const [c, k] of [
    ['a', 400],
    ['b', 400],
    ['c', 300],
    ['z', 100],
  ] as const)
    for (let i = 0; i < k; i++) shifted.add(c);
  d = categoricalDrift(shifted, DEFAULT_THRESHOLDS);
  assert.equal(d.test, 'jensenshannon');
  close(d.statistic, jensenShannon([600, 300, 100, 0], [400, 400, 300, 100]), 1e-12);
  assert.equal(d.drifted, true);
  assert.deepEqual(d.unseenCategories, { z: 100 });
  assert.deepEqual(d.histogram.categories, ['a', 'b', 'c', 'z']);
});
