// The data profile: column statistics, class balance per split, duplicates, rows shared between
// train and dev/test, constant columns and features that predict the target almost perfectly.
// One streaming pass (scanTable) keeps ~12 bytes per cell; everything else is computed from typed arrays.
import type { Problem } from '../spec/problems';
import { JsonDocument, type JsonPath } from '../spec/jsonLocation';
import { parseProjectDocument } from '../spec/parse';
import { isColumnSplit, isImageProject } from '../spec/types';
import { imageProfile } from './images/audit';
import { loadImageCollection } from './images/imageDataset';
import { dataFileOf, resolveProject, splitScannedRows, type ProjectInput } from './dataset';
import { DataError } from './errors';
import type { ColumnProfile, DataProfile, ProfileFinding } from './profileTypes';
import type { ReadOptions } from './reader';
import { classesOf, dataProblemSeverity, scanTable, type ColumnScan } from './scan';
import { applyStoredSplit, countSplits, DEV, NO_SPLIT, readStoredSplit, rowIds, TEST, TRAIN } from './split';
import { dirname } from 'node:path';

export interface ProfileOptions extends ReadOptions {
  /** Bins of numeric histograms (default 20). */
  histogramBins?: number;
  /** Sample images per class for data.image projects (default 8). */
  imageSamplesPerClass?: number;
}

/** Accuracy (classification) or |correlation| (regression) on train above which a single feature is
 *  suspected of leaking the target. */
export const LEAKAGE_SCORE = 0.99;
const TOP_VALUES = 20;
const PURITY_BINS = 32;

export async function profileProject(project: ProjectInput, opts: ProfileOptions = {}): Promise<DataProfile> {
  const t0 = performance.now();
  const ref = await resolveProject(project);
  const { spec } = ref;
  if (isImageProject(spec)) {
    const collection = await loadImageCollection(ref);
    return imageProfile(collection, spec.task, spec.data.target, t0);
  }
  const file = dataFileOf(ref);
  const samples = spec.data.image ? (opts.imageSamplesPerClass ?? 8) : 0;
  const scan = await scanTable(spec, file, { ...opts, storeValues: true, imageSamplesPerClass: samples });
  if (!scan.target)
    throw new DataError(file, 1, 'data-unknown-column', `The header has no column "${spec.data.target}" (data.target)`);
  const findings: ProfileFinding[] = scan.problems.map((p) => ({
    severity: dataProblemSeverity(p),
    code: p.code,
    message: p.detail,
    line: p.line,
  }));

  const rowSplit = splitScannedRows(spec, scan);
  let split = rowSplit.split;
  const stored = await readStoredSplit(dirname(ref.projectFile), rowSplit.version);
  if (stored) split = applyStoredSplit(rowIds(scan.hashHi, scan.hashLo), split, stored);
  const counts = countSplits(split);
  const n = scan.rows;

  const bins = opts.histogramBins ?? 20;
  const columns: ColumnProfile[] = scan.columns.map((c) =>
    columnProfile(c, bins, c.role === 'target' && spec.task === 'classification'),
  );
  for (const c of columns) {
    if (c.role === 'feature' && c.constant) {
      findings.push({
        severity: 'warning',
        code: 'constant-column',
        column: c.name,
        message: `The feature "${c.name}" has ${c.distinct === 0 ? 'no values' : 'one value'}: it carries no information`,
      });
    }
  }
  const withMissing = columns.filter((c) => c.role === 'feature' && c.missing > 0);
  for (const c of withMissing) {
    findings.push({
      severity: 'information',
      code: 'missing-values',
      column: c.name,
      message: `The feature "${c.name}" is missing in ${c.missing} of ${c.count} rows (${pct(c.missing / c.count)}); models impute it from the training split`,
    });
  }

  // Duplicates and train/dev-test overlap, by 53 bits of each row's content hash.
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = scan.hashHi[i] * 2 ** 21 + (scan.hashLo[i] >>> 11);
  const sorted = Float64Array.from(keys).sort();
  let duplicateRows = 0;
  for (let i = 1; i < n; i++) if (sorted[i] === sorted[i - 1]) duplicateRows++;
  const trainKeys = keys.filter((_, i) => split[i] === TRAIN).sort();
  let leakageRows = 0;
  for (let i = 0; i < n; i++)
    if ((split[i] === DEV || split[i] === TEST) && binaryHas(trainKeys, keys[i])) leakageRows++;
  if (duplicateRows > 0) {
    findings.push({
      severity: 'warning',
      code: 'duplicate-rows',
      message: `${duplicateRows} row(s) repeat an earlier row exactly (${pct(duplicateRows / n)} of the data)`,
    });
  }
  if (leakageRows > 0) {
    findings.push({
      severity: 'warning',
      code: 'leakage-rows',
      message: `${leakageRows} dev/test row(s) also appear in train: their scores overstate how well a model generalises`,
    });
  }

  let classBalance: DataProfile['classBalance'];
  if (rowSplit.classes && rowSplit.classIndex) {
    const K = rowSplit.classes.length;
    const per = new Int32Array(K * 4);
    for (let i = 0; i < n; i++) {
      const k = rowSplit.classIndex[i];
      if (k < 0) continue;
      per[k * 4]++;
      if (split[i] !== NO_SPLIT) per[k * 4 + 1 + split[i]]++;
    }
    classBalance = rowSplit.classes.map((name, k) => ({
      class: name,
      total: per[k * 4],
      train: per[k * 4 + 1],
      dev: per[k * 4 + 2],
      test: per[k * 4 + 3],
    }));
    const totals = classBalance.map((c) => c.total);
    const [min, max] = [Math.min(...totals), Math.max(...totals)];
    if (K >= 2 && min < 0.1 * max) {
      const rare = classBalance.filter((c) => c.total === min)[0].class;
      findings.push({
        severity: 'warning',
        code: 'class-imbalance',
        column: spec.data.target,
        message: `The classes are imbalanced: "${rare}" has ${min} rows, the largest class ${max}; prefer f1 or logloss to accuracy`,
      });
    }
  }

  for (const f of scan.features) {
    const score = rowSplit.classIndex
      ? binnedPurity(f, rowSplit.classIndex, rowSplit.classes!.length, split, counts.train)
      : scan.targetValue && f.kind === 'numeric' && f.values
        ? Math.abs(correlation(f.values.view(), scan.targetValue, split))
        : undefined;
    if (score !== undefined && score >= LEAKAGE_SCORE) {
      const what = rowSplit.classIndex
        ? `predicts the target on its own with ${pct(score)} training accuracy`
        : `has a correlation of ${score.toFixed(3)} with the target`;
      findings.push({
        severity: 'warning',
        code: 'suspected-leakage-feature',
        column: f.name,
        message: `The feature "${f.name}" ${what}: check it is known before the target (leakage)`,
      });
    }
  }

  let imageSamples: DataProfile['imageSamples'];
  if (spec.data.image && scan.imageSamples && scan.target) {
    const names = [...scan.target.strings.keys()];
    const order = rowSplit.classes ?? names;
    imageSamples = {
      width: spec.data.image.width,
      height: spec.data.image.height,
      channels: spec.data.image.channels ?? 1,
      byClass: [...scan.imageSamples.entries()]
        .map(([code, pixels]) => ({ class: names[code], pixels }))
        .sort((a, b) => order.indexOf(a.class) - order.indexOf(b.class)),
    };
  }

  return {
    file,
    rows: n,
    task: spec.task,
    target: spec.data.target,
    columns,
    classBalance,
    split: counts,
    unsplitRows: n - counts.train - counts.dev - counts.test,
    duplicateRows,
    leakageRows,
    findings,
    imageSamples,
    dataVersion: rowSplit.version.id,
    durationMs: Math.round(performance.now() - t0),
  };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;
}

function binaryHas(sorted: Float64Array, v: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else if (sorted[mid] > v) hi = mid - 1;
    else return true;
  }
  return false;
}

/** `classes`: the column is a classification target, whose values are all listed, in class order (as the models and panels order classes). */
function columnProfile(c: ColumnScan, bins: number, classes = false): ColumnProfile {
  const base = {
    name: c.name,
    role: c.role,
    count: c.count,
    missing: c.missing,
    distinct: c.distinct,
    ...(c.distinctCapped ? { distinctIsLowerBound: true } : {}),
    constant: c.distinct <= 1,
  };
  if (c.kind === 'numeric') {
    const min = c.numeric ? c.min : 0;
    const max = c.numeric ? c.max : 0;
    const binCount = max > min ? Math.max(1, Math.min(bins, c.distinctCapped ? bins : c.distinct)) : 1;
    const counts = new Array<number>(binCount).fill(0);
    const values = c.values?.view();
    if (values) {
      const scale = max > min ? binCount / (max - min) : 0;
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v === v) counts[Math.min(binCount - 1, Math.max(0, Math.floor((v - min) * scale)))]++;
      }
    }
    const edges = Array.from({ length: binCount + 1 }, (_, i) =>
      max > min ? min + ((max - min) * i) / binCount : min + i,
    );
    return {
      ...base,
      ...(c.nonNumeric ? { invalid: c.nonNumeric } : {}),
      stats: { kind: 'numeric', min, max, mean: c.mean, std: c.std, histogram: { edges, counts } },
    };
  }
  const values = [...c.strings.keys()];
  if (classes) {
    const counts = new Map(values.map((v, code) => [v, c.stringCounts[code]]));
    return {
      ...base,
      stats: {
        kind: 'categorical',
        topValues: classesOf(c).classes.map((value) => ({ value, count: counts.get(value) ?? 0 })),
      },
    };
  }
  const top = c.stringCounts
    .map((count, code) => ({ value: values[code], count }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
    .slice(0, TOP_VALUES);
  return { ...base, stats: { kind: 'categorical', topValues: top } };
}

/** Training accuracy of predicting the majority class of each bin (numeric) or value (categorical) of
 *  one feature: near 1 means the feature alone gives the label away. */
function binnedPurity(
  c: ColumnScan,
  classIndex: Int32Array,
  K: number,
  split: Uint8Array,
  nTrain: number,
): number | undefined {
  if (nTrain === 0) return undefined;
  const counts = (slots: number, slotOf: Int32Array) => {
    const out = new Int32Array(slots * K);
    for (let i = 0; i < classIndex.length; i++)
      if (split[i] === TRAIN && classIndex[i] >= 0) out[slotOf[i] * K + classIndex[i]]++;
    return out;
  };
  let slots: number;
  const slotOf = new Int32Array(classIndex.length);
  if (c.kind === 'numeric' && c.values && c.max > c.min) {
    const values = c.values.view();
    const scale = PURITY_BINS / (c.max - c.min);
    slots = PURITY_BINS + 1;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      slotOf[i] = v === v ? Math.min(PURITY_BINS - 1, Math.floor((v - c.min) * scale)) : PURITY_BINS;
    }
  } else if (c.kind === 'categorical' && c.codes && !c.distinctCapped && c.strings.size <= nTrain / 10) {
    // Many distinct values (ids, free text) are trivially "pure": only low-cardinality columns are judged.
    const codes = c.codes.view();
    slots = c.strings.size + 1;
    for (let i = 0; i < codes.length; i++) slotOf[i] = codes[i] >= 0 ? codes[i] : slots - 1;
  } else return undefined;
  const table = counts(slots, slotOf);
  const classTotals = new Int32Array(K);
  for (let s = 0; s < slots; s++) for (let k = 0; k < K; k++) classTotals[k] += table[s * K + k];
  let correct = 0;
  for (let s = 0; s < slots; s++) {
    let best = 0;
    for (let k = 0; k < K; k++) best = Math.max(best, table[s * K + k]);
    correct += best;
  }
  const trainRows = classTotals.reduce((a, b) => a + b, 0);
  const majority = Math.max(...classTotals) / trainRows;
  // A feature is not informative when predicting the majority class already scores as well.
  return majority >= LEAKAGE_SCORE ? undefined : correct / trainRows;
}

function correlation(x: Float32Array, y: Float64Array, split: Uint8Array): number {
  let n = 0,
    sx = 0,
    sy = 0,
    sxx = 0,
    syy = 0,
    sxy = 0;
  for (let i = 0; i < x.length; i++) {
    if (split[i] !== TRAIN || !(x[i] === x[i]) || !(y[i] === y[i])) continue;
    n++;
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    syy += y[i] * y[i];
    sxy += x[i] * y[i];
  }
  const cov = sxy - (sx * sy) / n;
  const vx = sxx - (sx * sx) / n;
  const vy = syy - (sy * sy) / n;
  return n > 2 && vx > 0 && vy > 0 ? cov / Math.sqrt(vx * vy) : 0;
}

/**
 * Findings worth acting on as Problems on mlloop.json, each at the field it concerns: a feature's
 * entry in data.features (or data.target / data.path), duplicates and overlap at data.split.
 * Information-level findings are left out.
 */
export function profileFindingsToProblems(profile: DataProfile, projectFile: string, text: string): Problem[] {
  const doc = new JsonDocument(text);
  const spec = parseProjectDocument(doc, projectFile).spec;
  const features = spec?.data.features ?? [];
  const categorical = spec?.data.categorical ?? [];
  const images = spec ? isImageProject(spec) : false;
  const locate = (f: ProfileFinding): JsonPath => {
    // The image audit's findings are about the images: at data.images (or the manifest's image column).
    if (images && f.code.startsWith('image-'))
      return spec?.data.images !== undefined ? ['data', 'images'] : ['data', 'imageColumn'];
    if (f.code === 'duplicate-rows' || f.code === 'leakage-rows')
      return spec?.data.split
        ? ['data', 'split', isColumnSplit(spec.data.split) ? 'column' : 'seed']
        : ['data', 'path'];
    if (f.code === 'class-imbalance') return ['data', 'target'];
    if (f.column) {
      if (f.column === spec?.data.target) return ['data', 'target'];
      if (features.includes(f.column)) return ['data', 'features', features.indexOf(f.column)];
      if (categorical.includes(f.column)) return ['data', 'categorical', categorical.indexOf(f.column)];
    }
    return ['data', 'path'];
  };
  return (
    profile.findings
      .filter((f) => f.severity !== 'information')
      // An image project's layout problems (no images, link loops, …) are reported by loadProject already.
      .filter((f) => !images || f.code.startsWith('image-') || f.code === 'class-imbalance')
      .map((f) => {
        const where = f.line ? `${spec?.data.path ?? profile.file} line ${f.line}: ` : '';
        return doc.problemAt(locate(f), projectFile, f.severity, f.code, `${where}${f.message}`);
      })
  );
}
