// The audit of an image dataset (`ml-loop profile`, the Data panel): what CleanVision, fastdup or
// FiftyOne find per image — exact and near duplicates, unreadable files, dark, overly light, blurry,
// low-information images, odd sizes and aspect ratios, grey images in an RGB set — plus what matters
// for the ML project: duplicates that cross splits (leakage, with the pairs), class balance per split,
// per-class distributions of size, brightness and sharpness.
// Thresholds are relative to the dataset itself (a robust z-score: median and MAD) where "normal"
// depends on the data (Fashion-MNIST is mostly black background), absolute where it does not.
import { createHash } from 'node:crypto';
import { NO_SPLIT, SPLIT_NAMES } from '../split';
import { readAuditCache, writeAuditCache } from './imageCache';
import type {
  DataProfile,
  Histogram,
  ImageAudit,
  ImageAuditFinding,
  ImageClassStats,
  ImageIssue,
  ImagePair,
  ImagePreviews,
  ProfileFinding,
} from '../profileTypes';
import type { ImageCollection, ImageRecord } from './imageDataset';
import { uprightSize } from './preprocess';
import { hammingDistance, PROPERTY_NAMES } from './properties';
import { thumbnail, thumbnailSize } from './pixels';

/** Near duplicates: perceptual hashes at most this many bits apart (of 64). */
export const NEAR_DUPLICATE_BITS = 4;
/** …and pixels correlated at least this much (Pearson, over the preprocessed pixels). */
export const NEAR_DUPLICATE_CORRELATION = 0.95;
/** Robust z-score beyond which an image is dark, light, blurry or low in information. */
export const OUTLIER_Z = 3.5;
/** Grey-level entropy (bits) under which an image is nearly uniform. */
export const LOW_INFORMATION_BITS = 1;
/** Pairs and files listed per finding (counts are always complete). */
const LISTED = 200;
const SAMPLES_PER_CLASS = 8;
const BINS = 20;

/** Longest side of a thumbnail, and images per finding shown. */
export const THUMBNAIL = 48;
const PREVIEWS = 12;

/** Thumbnails (≤ THUMBNAIL px) of collection images, channels last. */
function thumbnails(c: ImageCollection, files: Iterable<string>): ImagePreviews {
  const size = thumbnailSize(c.settings, THUMBNAIL);
  const slotOf = new Map(c.records.filter((r) => r.slot >= 0).map((r) => [r.rel, r.slot]));
  const byFile: Record<string, number[]> = {};
  for (const rel of files) {
    const slot = slotOf.get(rel);
    if (slot !== undefined && !byFile[rel]) byFile[rel] = thumbnail(c.decoded.pixels, slot, c.settings, THUMBNAIL);
  }
  return { ...size, channels: c.settings.channels, byFile };
}

function median(values: number[]): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Robust z-scores: (x − median) / (1.4826 · MAD), the MAD floored so a near-constant set does not flag noise. */
function robustZ(values: number[], floor: number): number[] {
  const med = median(values);
  const mad = Math.max(median(values.map((v) => Math.abs(v - med))) * 1.4826, floor);
  return values.map((v) => (v - med) / mad);
}

function histogram(values: number[], lo: number, hi: number): Histogram {
  const counts = new Array(BINS).fill(0);
  const w = (hi - lo) / BINS || 1;
  for (const v of values) counts[Math.max(0, Math.min(BINS - 1, Math.floor((v - lo) / w)))]++;
  return { edges: Array.from({ length: BINS + 1 }, (_, i) => lo + i * w), counts };
}

const modeOf = (r: ImageRecord): string => {
  const i = r.info!;
  if (i.bitDepth > 8) return '16-bit';
  if (i.palette) return 'palette';
  return ['', 'grey', 'grey+alpha', 'rgb', 'rgba'][i.channels] ?? `${i.channels} channels`;
};

/** Pearson correlation of two images' pixels (1 for a copy scaled in brightness or contrast). */
export function pixelCorrelation(pixels: Uint8Array, a: number, b: number, size: number): number {
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  for (let k = 0; k < size; k++) {
    const x = pixels[a + k];
    const y = pixels[b + k];
    sa += x;
    sb += y;
    saa += x * x;
    sbb += y * y;
    sab += x * y;
  }
  const va = saa - (sa * sa) / size;
  const vb = sbb - (sb * sb) / size;
  return va > 0 && vb > 0 ? (sab - (sa * sb) / size) / Math.sqrt(va * vb) : va === vb ? 1 : 0;
}

/** Pairs of images whose perceptual hashes are within NEAR_DUPLICATE_BITS, found through 5 hash bands
 *  (two hashes that close agree exactly on at least one band of ~13 bits). */
export function nearDuplicatePairs(
  hi: Uint32Array,
  lo: Uint32Array,
  maxBits = NEAR_DUPLICATE_BITS,
): [number, number, number][] {
  const n = hi.length;
  const pairs: [number, number, number][] = [];
  const seen = new Set<number>();
  const bands = maxBits + 1;
  const width = Math.ceil(64 / bands);
  for (let b = 0; b < bands; b++) {
    const buckets = new Map<number, number[]>();
    const start = b * width;
    const end = Math.min(64, start + width);
    for (let i = 0; i < n; i++) {
      let key = 0;
      for (let bit = start; bit < end; bit++) {
        const word = bit < 32 ? hi[i] : lo[i];
        key = key * 2 + ((word >>> (bit % 32)) & 1);
      }
      let list = buckets.get(key);
      if (!list) buckets.set(key, (list = []));
      list.push(i);
    }
    for (const list of buckets.values()) {
      for (let x = 0; x < list.length; x++) {
        for (let y = x + 1; y < list.length; y++) {
          const i = list[x];
          const j = list[y];
          const d = hammingDistance(hi[i], lo[i], hi[j], lo[j]);
          if (d > maxBits) continue;
          const id = i * n + j;
          if (seen.has(id)) continue;
          seen.add(id);
          pairs.push([i, j, d]);
        }
      }
    }
  }
  return pairs.sort((p, q) => p[2] - q[2] || p[0] - q[0] || p[1] - q[1]);
}

/** Audits a loaded image collection. */
export function auditImages(c: ImageCollection): ImageAudit {
  const P = PROPERTY_NAMES.length;
  const column = Object.fromEntries(PROPERTY_NAMES.map((name, k) => [name, k])) as Record<
    (typeof PROPERTY_NAMES)[number],
    number
  >;
  const props = c.decoded.properties;
  const prop = (r: ImageRecord, name: (typeof PROPERTY_NAMES)[number]) => props[r.slot * P + column[name]];
  const splitName = (i: number) => (c.split[i] === NO_SPLIT ? 'none' : SPLIT_NAMES[c.split[i]]);
  const findings: ImageAuditFinding[] = [];
  const add = (
    issue: ImageIssue,
    severity: ProfileFinding['severity'],
    message: string,
    files: string[],
    pairs?: ImagePair[],
    count = pairs?.length ?? files.length,
  ) => {
    if (count > 0)
      findings.push({
        severity,
        code: `image-${issue}`,
        issue,
        message,
        files: files.slice(0, LISTED),
        ...(pairs ? { pairs: pairs.slice(0, LISTED) } : {}),
        count,
      });
  };

  const readable: number[] = [];
  c.records.forEach((r, i) => r.info && r.slot >= 0 && readable.push(i));
  const unreadable = c.records.filter((r) => r.error);
  add(
    'unreadable',
    'warning',
    `${unreadable.length} file(s) are not readable images and are skipped: ${unreadable
      .slice(0, 3)
      .map((r) => `${r.rel} (${r.error})`)
      .join('; ')}${unreadable.length > 3 ? '; …' : ''}`,
    unreadable.map((r) => r.rel),
  );

  // Exact duplicates: the same bytes, or the same pixels once decoded.
  const groups = new Map<string, number[]>();
  for (const i of readable) {
    const r = c.records[i];
    const key = `${prop(r, 'pixelHash')}:${prop(r, 'phashHi')}:${prop(r, 'phashLo')}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  }
  const pair = (i: number, j: number, d: number): ImagePair => ({
    a: c.records[i].rel,
    b: c.records[j].rel,
    splitA: splitName(i),
    splitB: splitName(j),
    distance: d,
  });
  const crosses = (i: number, j: number) =>
    c.split[i] !== c.split[j] && c.split[i] !== NO_SPLIT && c.split[j] !== NO_SPLIT;
  const exactPairs: ImagePair[] = [];
  const exactCross: ImagePair[] = [];
  const exactKey = new Set<string>();
  for (const g of groups.values()) {
    for (let x = 1; x < g.length; x++) {
      const p = pair(g[0], g[x], 0);
      (crosses(g[0], g[x]) ? exactCross : exactPairs).push(p);
      exactKey.add(`${Math.min(g[0], g[x])}:${Math.max(g[0], g[x])}`);
    }
  }
  const labelOf = new Map(c.records.map((r) => [r.rel, r.label]));
  const labelClash = (p: ImagePair) => labelOf.get(p.a) !== labelOf.get(p.b);
  add(
    'exact-duplicate',
    'error',
    `${exactCross.length} image(s) in dev or test are exact copies of another split's images (leakage: they inflate dev/test metrics): ${exactCross
      .slice(0, 3)
      .map((p) => `${p.a} (${p.splitA}) = ${p.b} (${p.splitB})`)
      .join('; ')}`,
    exactCross.flatMap((p) => [p.a, p.b]),
    exactCross,
  );
  const clashing = exactPairs.filter(labelClash).length;
  add(
    'exact-duplicate',
    clashing ? 'warning' : 'information',
    `${exactPairs.length} exact duplicate pair(s) within a split${clashing ? `, ${clashing} with different labels` : ''}: ${exactPairs
      .slice(0, 3)
      .map((p) => `${p.a} = ${p.b}`)
      .join('; ')}`,
    exactPairs.flatMap((p) => [p.a, p.b]),
    exactPairs,
  );

  // Near duplicates by perceptual hash (exact ones left out).
  const hi = Uint32Array.from(readable, (i) => prop(c.records[i], 'phashHi'));
  const lo = Uint32Array.from(readable, (i) => prop(c.records[i], 'phashLo'));
  // Small pictures of one kind (28×28 shirts) often share a hash: a candidate is a near duplicate
  // only if its pixels also correlate almost perfectly (a brightened or recompressed copy does).
  const size = c.settings.height * c.settings.width * c.settings.channels;
  const near = nearDuplicatePairs(hi, lo)
    .map(([x, y, d]) => [readable[x], readable[y], d] as const)
    .filter(([i, j]) => !exactKey.has(`${Math.min(i, j)}:${Math.max(i, j)}`))
    .filter(
      ([i, j]) =>
        pixelCorrelation(c.decoded.pixels, c.records[i].slot * size, c.records[j].slot * size, size) >=
        NEAR_DUPLICATE_CORRELATION,
    );
  const nearCross = near.filter(([i, j]) => crosses(i, j)).map(([i, j, d]) => pair(i, j, d));
  const nearWithin = near.filter(([i, j]) => !crosses(i, j)).map(([i, j, d]) => pair(i, j, d));
  add(
    'near-duplicate',
    'warning',
    `${nearCross.length} near-duplicate pair(s) across splits (the same picture resized, recompressed, brightened or blurred: leakage): ${nearCross
      .slice(0, 3)
      .map((p) => `${p.a} (${p.splitA}) ≈ ${p.b} (${p.splitB})`)
      .join('; ')}`,
    nearCross.flatMap((p) => [p.a, p.b]),
    nearCross,
  );
  add(
    'near-duplicate',
    'information',
    `${nearWithin.length} near-duplicate pair(s) within a split`,
    nearWithin.flatMap((p) => [p.a, p.b]),
    nearWithin,
  );

  // Per-image outliers, relative to the dataset.
  const values = (name: (typeof PROPERTY_NAMES)[number], f: (v: number) => number = (v) => v) =>
    readable.map((i) => f(prop(c.records[i], name)));
  const brightness = values('brightness');
  const bz = robustZ(brightness, 0.02);
  const logSharp = values('sharpness', (v) => Math.log10(v + 1e-6));
  const sz = robustZ(logSharp, 0.1);
  const entropy = values('entropy');
  const flagged = (test: (k: number) => boolean) => readable.filter((_, k) => test(k)).map((i) => c.records[i].rel);
  const dark = flagged((k) => bz[k] < -OUTLIER_Z && brightness[k] < 0.5);
  add(
    'dark',
    'information',
    `${dark.length} image(s) are much darker than the rest (mean brightness far below the median ${median(brightness).toFixed(2)})`,
    dark,
  );
  const light = flagged((k) => bz[k] > OUTLIER_Z && brightness[k] > 0.5);
  add(
    'light',
    'information',
    `${light.length} image(s) are much lighter than the rest (overexposed or washed out)`,
    light,
  );
  const blurry = flagged((k) => sz[k] < -OUTLIER_Z);
  add(
    'blurry',
    'information',
    `${blurry.length} image(s) are much blurrier than the rest (low Laplacian variance)`,
    blurry,
  );
  const lowInfo = flagged((k) => entropy[k] < LOW_INFORMATION_BITS);
  add(
    'low-information',
    'information',
    `${lowInfo.length} image(s) carry little information (nearly uniform: grey-level entropy under ${LOW_INFORMATION_BITS} bits)`,
    lowInfo,
  );

  // Sizes and aspect ratios of the files.
  const sizeCount = new Map<string, number>();
  const aspects: number[] = [];
  for (const i of readable) {
    const u = uprightSize(c.records[i].info!);
    const k = `${u.height}x${u.width}`;
    sizeCount.set(k, (sizeCount.get(k) ?? 0) + 1);
    aspects.push(Math.log(u.width / u.height));
  }
  const sizes = [...sizeCount].sort((a, b) => b[1] - a[1]).map(([size, count]) => ({ size, count }));
  const [commonH, commonW] = sizes[0].size.split('x').map(Number);
  const commonAspect = median(aspects);
  const oddSize: string[] = [];
  const oddAspect: string[] = [];
  readable.forEach((i, k) => {
    const u = uprightSize(c.records[i].info!);
    const area = (u.width * u.height) / (commonW * commonH);
    if (area < 0.25 || area > 4) oddSize.push(c.records[i].rel);
    if (Math.abs(aspects[k] - commonAspect) > Math.log(1.5)) oddAspect.push(c.records[i].rel);
  });
  add(
    'odd-size',
    'information',
    `${oddSize.length} image(s) are far from the usual size ${commonH}×${commonW} (under a quarter or over four times its area)`,
    oddSize,
  );
  add(
    'odd-aspect',
    'information',
    `${oddAspect.length} image(s) have an unusual aspect ratio (stretched when resized to ${c.settings.height}×${c.settings.width})`,
    oddAspect,
  );
  if (c.settings.channels === 3) {
    const colour = values('colourfulness');
    const grey = readable
      .filter((i, k) => colour[k] < 0.004 || c.records[i].info!.channels <= 2)
      .map((i) => c.records[i].rel);
    if (grey.length < readable.length / 2)
      add('grayscale', 'information', `${grey.length} grey image(s) in an RGB dataset`, grey);
  }

  // Modes, per class.
  const modes: Record<string, number> = {};
  for (const i of readable) {
    const m = modeOf(c.records[i]);
    modes[m] = (modes[m] ?? 0) + 1;
    if (c.records[i].info!.orientation) modes['EXIF-rotated'] = (modes['EXIF-rotated'] ?? 0) + 1;
  }
  const sharpLo = logSharp.reduce((m, v) => Math.min(m, v), 0);
  const sharpHi = logSharp.reduce((m, v) => Math.max(m, v), sharpLo + 1);
  const byClass: (readonly [number, number])[][] = c.classes.map(() => []);
  readable.forEach((i, k) => byClass[c.classIndex[i]].push([i, k]));
  const classes: ImageClassStats[] = c.classes.map((name, ci) => {
    const members = byClass[ci];
    const split = { train: 0, dev: 0, test: 0 };
    for (const [i] of members) if (c.split[i] !== NO_SPLIT) split[SPLIT_NAMES[c.split[i]]]++;
    const sz2 = new Map<string, number>();
    for (const [i] of members) {
      const u = uprightSize(c.records[i].info!);
      sz2.set(`${u.height}x${u.width}`, (sz2.get(`${u.height}x${u.width}`) ?? 0) + 1);
    }
    return {
      class: name,
      count: members.length,
      split,
      samples: members.slice(0, SAMPLES_PER_CLASS).map(([i]) => c.records[i].rel),
      brightness: histogram(
        members.map(([, k]) => brightness[k]),
        0,
        1,
      ),
      sharpness: histogram(
        members.map(([, k]) => logSharp[k]),
        sharpLo,
        sharpHi,
      ),
      sizes: [...sz2]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10)
        .map(([size, count]) => ({ size, count })),
    };
  });
  return {
    settings: c.settings,
    settingsFromData: c.settingsFromData,
    images: c.records.length,
    unreadable: unreadable.length,
    modes,
    sizes: sizes.slice(0, 20),
    classes,
    findings,
    cacheHit: c.cacheHit,
  };
}

/** The audit, from the cache when the same images (content hashes, settings, classes, split) were audited last. */
export async function cachedAuditImages(c: ImageCollection): Promise<ImageAudit> {
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        settings: c.settings,
        version: c.version.id,
        hashes: c.decoded.hashes,
        files: c.records.map((r) => [r.rel, r.label, r.hash, r.error ?? '']),
      }),
    )
    .update(c.split)
    .digest('hex');
  const cached = await readAuditCache<ImageAudit>(c.projectDir, key);
  if (cached) return { ...cached, cacheHit: c.cacheHit };
  const audit = auditImages(c);
  await writeAuditCache(c.projectDir, key, audit).catch(() => undefined);
  return audit;
}

/** The DataProfile of an image project: the audit plus the fields every profile has. */
export async function imageProfile(
  c: ImageCollection,
  task: DataProfile['task'],
  target: string,
  startedAt: number,
): Promise<DataProfile> {
  const audit = await cachedAuditImages(c);
  const durationMs = Math.round(performance.now() - startedAt);
  const counts = { train: 0, dev: 0, test: 0 };
  let unsplit = 0;
  c.split.forEach((s) => (s === NO_SPLIT ? unsplit++ : counts[SPLIT_NAMES[s]]++));
  const findings: ProfileFinding[] = [
    ...c.problems
      .filter((p) => p.code !== 'images-unreadable')
      .map((p): ProfileFinding => ({ severity: p.severity, code: p.code, message: p.message })),
    ...audit.findings,
  ];
  const classBalance = audit.classes.map((k) => ({ class: k.class, total: k.count, ...k.split }));
  const counts2 = classBalance.map((k) => k.total);
  const max = Math.max(...counts2);
  const min = Math.min(...counts2);
  if (min > 0 && max / min >= 5) {
    const rare = classBalance.find((k) => k.total === min)!.class;
    findings.push({
      severity: 'warning',
      code: 'class-imbalance',
      column: target,
      message: `The classes are imbalanced: "${rare}" has ${min} images, the largest class ${max}; prefer f1 or logloss to accuracy`,
    });
  }
  const exact = audit.findings.filter((f) => f.issue === 'exact-duplicate');
  const shown = audit.findings.flatMap((f) =>
    f.pairs ? f.pairs.slice(0, PREVIEWS / 2).flatMap((p) => [p.a, p.b]) : f.files.slice(0, PREVIEWS),
  );
  const previews = thumbnails(c, shown);
  const samples = thumbnails(
    c,
    audit.classes.flatMap((k) => k.samples),
  );
  return {
    file: c.listing.source,
    rows: c.records.length,
    columns: [],
    classBalance,
    split: counts,
    duplicateRows: exact.reduce((s, f) => s + f.count, 0),
    leakageRows: audit.findings.filter((f) => f.pairs && f.severity !== 'information').reduce((s, f) => s + f.count, 0),
    findings,
    dataVersion: c.version.id,
    ...(unsplit ? { unsplitRows: unsplit } : {}),
    task,
    target,
    durationMs,
    images: { ...audit, previews },
    // The Data panel's grid of examples per class (the same drawing as data.image projects).
    imageSamples: {
      width: samples.width,
      height: samples.height,
      channels: samples.channels,
      byClass: audit.classes.map((k) => ({ class: k.class, pixels: k.samples.map((f) => samples.byFile[f]) })),
    },
  };
}
