// Derived data versions: the project's data file plus extra training rows (augmented or added) and
// label fixes, stored beside the project, never in the data file itself:
//   .mlloop/data/<versionId>/recipe.json   what made the version (kind, parent, seed, count, sources…)
//   .mlloop/data/<versionId>/rows.csv      the extra rows (feature columns in schema order + target)
//   .mlloop/data/<versionId>/images/       image projects: the extra training images as files (PNG)
//   .mlloop/data/<versionId>/images.json   their labels and provenance (source image, transforms, parameters)
// A version's dev and test splits are its base's, untouched; extra rows only ever join `train`.
// Versions chain: a version's parent is the base data version or another derived version.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, realpath, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { loadSplitDataset, resolveProject, type LoadDatasetOptions, type ProjectInput } from './dataset';
import { DataError } from './errors';
import { GrowableFloat32 } from './growable';
import { readTable, toCsv } from './reader';
import { exampleId } from './rows';
import { float32Text, isMissing, parseNumber } from './values';
import type { DataVersion, FeatureSchema, Rows, SplitDataset } from './types';
import { versionsDir } from '../spec/layout';
import { preprocessImage } from './images/preprocess';

export type DerivedKind = 'augment' | 'add' | 'fix-labels';

export interface VersionRecipe {
  id: string;
  kind: DerivedKind;
  /** The version this one extends. */
  parent: string;
  /** The base data version (the data file and its split) at the root of the chain. */
  base: DataVersion;
  createdAt: string;
  /** Extra training rows in rows.csv. */
  rows: number;
  /** Example id → corrected class name (fix-labels). */
  labelFixes?: Record<string, string>;
  /** How the rows were made (augment: method, seed, count, source; add: the CSV it came from). */
  details: Record<string, unknown>;
  /** Image projects: the extra rows are image files listed in images.json (`rows` of them). */
  images?: boolean;
}

/** One extra training image of a version (images.json): its file, label and where it came from. */
export interface VersionImage {
  /** The file, relative to the version's folder (images/<k>-<hash>.png). */
  file: string;
  label: string;
  /** sha256 (hex) of the file's bytes. */
  hash: string;
  /** The image it was made or copied from (relative to the project folder when inside it) and its example id. */
  source?: { file: string; id?: string };
  /** The transforms applied to the source, in order, with their parameters (augmentation). */
  transforms?: Record<string, unknown>[];
}

/** An extra training image to record: its encoded bytes (PNG, JPEG, WebP) and label. */
export interface NewVersionImage {
  bytes: Uint8Array;
  /** File extension with the dot (default .png). */
  ext?: string;
  label: string;
  source?: VersionImage['source'];
  transforms?: VersionImage['transforms'];
}

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The extra rows as CSV: numeric features, categorical features, then the target (class name or value). */
export function rowsToCsv(schema: FeatureSchema, rows: Rows): string {
  const F = schema.numeric.length;
  const K = schema.categorical.length;
  const records: string[][] = [[...schema.numeric, ...schema.categorical, schema.target]];
  for (let i = 0; i < rows.features.n; i++) {
    const r: string[] = [];
    for (let f = 0; f < F; f++) {
      const v = rows.features.numeric[i * F + f];
      r.push(Number.isNaN(v) ? '' : float32Text(v));
    }
    for (let k = 0; k < K; k++) r.push(rows.features.categories[i * K + k]);
    r.push(schema.classes ? schema.classes[rows.y[i]] : String(rows.y[i]));
    records.push(r);
  }
  return toCsv(records);
}

/**
 * Reads rows written by rowsToCsv, or any CSV file holding the schema's feature columns and target
 * (rows added by the user), through the data file's reader (src/core/data/reader.ts) and its
 * missing-value rule (src/core/data/values.ts). Problems throw DataError naming the file and line.
 */
export async function readRowsCsv(schema: FeatureSchema, file: string): Promise<Rows> {
  const columns = [...schema.numeric, ...schema.categorical, schema.target];
  const F = schema.numeric.length;
  const numeric = new GrowableFloat32(1024);
  const categories: string[] = [];
  const y: number[] = [];
  const ids: string[] = [];
  const classIndex = new Map((schema.classes ?? []).map((c, i) => [c, i]));
  let index: number[] = [];
  let width = 0;
  try {
    await readTable(file, {
      header(names) {
        width = names.length;
        index = columns.map((col) => {
          const k = names.indexOf(col);
          if (k < 0)
            throw new DataError(
              file,
              1,
              'data-unknown-column',
              `The header has no column "${col}" (expected ${columns.join(', ')})`,
            );
          return k;
        });
      },
      record(fields, line) {
        if (fields.length !== width)
          throw new DataError(
            file,
            line,
            'data-ragged',
            `This row has ${fields.length} fields; the header has ${width}`,
          );
        // Missing cells (empty, NA, null…) are empty, as the data file's are; the id hashes the cells as read.
        const cells = index.map((k) => (isMissing(fields[k]) ? '' : fields[k]));
        for (let f = 0; f < F; f++) numeric.push(parseNumber(cells[f]));
        for (let c = F; c < cells.length - 1; c++) categories.push(cells[c]);
        const t = cells[cells.length - 1];
        if (schema.classes) {
          const c = classIndex.get(t);
          if (c === undefined)
            throw new DataError(
              file,
              line,
              'data-target-classes',
              `The row has class "${t}", not one of ${schema.classes.join(', ')}`,
            );
          y.push(c);
        } else {
          const v = parseNumber(t);
          if (Number.isNaN(v))
            throw new DataError(
              file,
              line,
              'data-missing-target',
              `The target "${schema.target}" is not a number: "${t}"`,
            );
          y.push(v);
        }
        ids.push(exampleId(cells));
      },
    });
  } catch (e) {
    // A header and no rows is a valid (empty) set of extra rows: a version that only fixes labels.
    if (!(e instanceof DataError && e.code === 'data-header-only')) throw e;
  }
  // Ids of extra rows hash their content like the data file's ids; repeats get "~k" as there.
  const seen = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) {
    const k = seen.get(ids[i]) ?? 0;
    seen.set(ids[i], k + 1);
    if (k) ids[i] = `${ids[i]}~${k}`;
  }
  const n = y.length;
  return {
    features: { n, numeric: numeric.view().slice(), categories },
    y: Float64Array.from(y),
    ids,
    rowIndex: new Uint32Array(n).fill(0xffffffff),
  };
}

/** No rows (a version whose additions are image files, or label fixes only). */
export function emptyRows(): Rows {
  return {
    features: { n: 0, numeric: new Float32Array(0), categories: [] },
    y: new Float64Array(0),
    ids: [],
    rowIndex: new Uint32Array(0),
  };
}

export function concatRows(a: Rows, b: Rows, F: number, K: number): Rows {
  const n = a.features.n + b.features.n;
  const numeric = new Float32Array(n * F);
  numeric.set(a.features.numeric.subarray(0, a.features.n * F));
  numeric.set(b.features.numeric.subarray(0, b.features.n * F), a.features.n * F);
  const y = new Float64Array(n);
  y.set(a.y.subarray(0, a.features.n));
  y.set(b.y.subarray(0, b.features.n), a.features.n);
  const rowIndex = new Uint32Array(n);
  rowIndex.set(a.rowIndex.subarray(0, a.features.n));
  rowIndex.set(b.rowIndex.subarray(0, b.features.n), a.features.n);
  return {
    features: {
      n,
      numeric,
      categories: [
        ...a.features.categories.slice(0, a.features.n * K),
        ...b.features.categories.slice(0, b.features.n * K),
      ],
    },
    y,
    ids: [...a.ids, ...b.ids],
    rowIndex,
    ...(a.images || b.images ? { images: concatImages(a, b) } : {}),
  };
}

function concatImages(a: Rows, b: Rows): NonNullable<Rows['images']> {
  const pa = a.images?.pixels ?? new Uint8Array(0);
  const pb = b.images?.pixels ?? new Uint8Array(0);
  const pixels = new Uint8Array(pa.length + pb.length);
  pixels.set(pa);
  pixels.set(pb, pa.length);
  return { pixels, files: [...(a.images?.files ?? []), ...(b.images?.files ?? [])] };
}

export async function readVersionImages(projectDir: string, versionId: string): Promise<VersionImage[]> {
  const file = join(versionsDir(projectDir), versionId, 'images.json');
  return (JSON.parse(await readFile(file, 'utf8')) as { images: VersionImage[] }).images;
}

/**
 * A version's extra images as training rows: each file preprocessed as the project's images are
 * (./images/preprocess.ts), ids from the content hash like the data's own images.
 */
async function imageRowsOf(projectDir: string, recipe: VersionRecipe, schema: FeatureSchema): Promise<Rows> {
  const settings = schema.image!;
  const classIndex = new Map((schema.classes ?? []).map((c, i) => [c, i]));
  const images = await readVersionImages(projectDir, recipe.id);
  const size = settings.height * settings.width * settings.channels;
  const n = images.length;
  const pixels = new Uint8Array(n * size);
  const y = new Float64Array(n);
  const files: string[] = [];
  const ids: string[] = [];
  const seen = new Map<string, number>();
  const dir = join(versionsDir(projectDir), recipe.id);
  for (let k = 0; k < n; k++) {
    const img = images[k];
    const path = join(dir, img.file);
    const c = classIndex.get(img.label);
    if (c === undefined)
      throw new DataError(
        join(dir, 'images.json'),
        1,
        'data-target-classes',
        `${img.file} has class "${img.label}", not one of ${[...classIndex.keys()].join(', ')}`,
      );
    const bytes = await readFile(path).catch(() => {
      throw new DataError(path, 1, 'data-not-found', `Data version ${recipe.id} lists ${img.file}, which is missing`);
    });
    pixels.set((await preprocessImage(bytes, settings)).pixels, k * size);
    y[k] = c;
    files.push(relative(projectDir, path));
    const id = img.hash.slice(0, 16);
    const repeat = seen.get(id) ?? 0;
    seen.set(id, repeat + 1);
    ids.push(repeat ? `${id}~${repeat}` : id);
  }
  return {
    features: { n, numeric: new Float32Array(0), categories: [] },
    y,
    ids,
    rowIndex: new Uint32Array(n).fill(0xffffffff),
    images: { pixels, files },
  };
}

export async function readRecipe(projectDir: string, versionId: string): Promise<VersionRecipe | undefined> {
  try {
    return JSON.parse(await readFile(join(versionsDir(projectDir), versionId, 'recipe.json'), 'utf8')) as VersionRecipe;
  } catch {
    return undefined;
  }
}

/** Every derived version of the project, newest first. */
export async function listDataVersions(projectDir: string): Promise<VersionRecipe[]> {
  let names: string[] = [];
  try {
    names = await readdir(versionsDir(projectDir));
  } catch {
    return [];
  }
  const recipes = (await Promise.all(names.map((n) => readRecipe(projectDir, n)))).filter(
    (r): r is VersionRecipe => !!r,
  );
  return recipes.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/**
 * Loads the project's data as data version `versionId`: the base data (loadSplitDataset) when it is
 * the base's id or undefined, else the base plus each derived version's extra training rows and label
 * fixes along the chain. Throws when the version is unknown or was made from another data file/split.
 */
export async function loadDataVersion(
  project: ProjectInput,
  versionId?: string,
  opts: LoadDatasetOptions = {},
): Promise<SplitDataset> {
  const ref = await resolveProject(project);
  const base = await loadSplitDataset(ref, opts);
  if (!versionId || versionId === base.version.id) return base;
  const projectDir = dirname(ref.projectFile);
  const chain: VersionRecipe[] = [];
  for (let id = versionId; id !== base.version.id;) {
    const recipe = await readRecipe(projectDir, id);
    if (!recipe) throw new Error(`No data version "${id}" under ${versionsDir(projectDir)}`);
    if (recipe.base.id !== base.version.id) {
      throw new Error(
        `Data version ${versionId} extends data ${recipe.base.id}, but the data file and split are now ${base.version.id}`,
      );
    }
    chain.unshift(recipe);
    id = recipe.parent;
  }
  let dataset = base;
  for (const recipe of chain) {
    dataset = applyRecipe(
      dataset,
      recipe,
      recipe.images && base.schema.image
        ? await imageRowsOf(projectDir, recipe, base.schema)
        : await readRowsCsv(base.schema, join(versionsDir(projectDir), recipe.id, 'rows.csv')),
    );
  }
  return dataset;
}

/** The dataset with one recipe applied: label fixes on every split, extra rows appended to train only. */
export function applyRecipe(dataset: SplitDataset, recipe: VersionRecipe, extra: Rows): SplitDataset {
  const { schema } = dataset;
  const fix = (rows: Rows): Rows => {
    if (!recipe.labelFixes || !schema.classes) return rows;
    const y = Float64Array.from(rows.y);
    rows.ids.forEach((id, i) => {
      const c = recipe.labelFixes![id];
      if (c !== undefined) y[i] = schema.classes!.indexOf(c);
    });
    return { ...rows, y };
  };
  const train = concatRows(fix(dataset.train), extra, schema.numeric.length, schema.categorical.length);
  return {
    ...dataset,
    train,
    dev: fix(dataset.dev),
    test: fix(dataset.test),
    version: { ...recipe.base, id: recipe.id, parent: recipe.parent },
  };
}

/**
 * Refuses a folder that would land outside the project (`.mlloop` or one of its folders a link to
 * elsewhere): ML Loop writes only inside the project. Checks the nearest existing ancestor's real path.
 */
export async function assertInsideProject(projectDir: string, target: string): Promise<void> {
  const root = await realpath(projectDir);
  let existing = resolve(target);
  for (;;) {
    try {
      existing = await realpath(existing);
      break;
    } catch {
      const up = dirname(existing);
      if (up === existing) break;
      existing = up;
    }
  }
  const rel = relative(root, existing);
  if (rel.startsWith('..') || isAbsolute(rel))
    throw new Error(
      `Refusing to write ${target}: ${existing} (where it would go) is outside the project folder ${root} — is .mlloop, or a folder in it, a link to elsewhere? Nothing was written.`,
    );
}

/**
 * Records a derived version (atomic: written to a temporary folder, then renamed) and returns its recipe.
 * The id hashes the parent, the rows, the images and the label fixes, so the same recipe gives the same version.
 * Image projects give `images` (files written under images/ with their labels and provenance in images.json).
 */
export async function writeDataVersion(
  projectDir: string,
  parent: SplitDataset,
  input: {
    kind: DerivedKind;
    rows: Rows;
    labelFixes?: Record<string, string>;
    details: Record<string, unknown>;
    images?: NewVersionImage[];
  },
): Promise<VersionRecipe> {
  const csv = rowsToCsv(parent.schema, input.rows);
  const classes = parent.schema.classes;
  const images: (VersionImage & { bytes: Uint8Array })[] = (input.images ?? []).map((img, k) => {
    if (classes && !classes.includes(img.label))
      throw new Error(`"${img.label}" is not a class (${classes.join(', ')})`);
    const hash = sha256(Buffer.from(img.bytes.buffer, img.bytes.byteOffset, img.bytes.length));
    const ext = /^\.[a-z0-9]{1,5}$/i.test(img.ext ?? '') ? img.ext!.toLowerCase() : '.png';
    return {
      file: `images/${String(k).padStart(5, '0')}-${hash.slice(0, 8)}${ext}`,
      label: img.label,
      hash,
      ...(img.source ? { source: img.source } : {}),
      ...(img.transforms ? { transforms: img.transforms } : {}),
      bytes: img.bytes,
    };
  });
  const base: DataVersion = {
    fileHash: parent.version.fileHash,
    splitHash: parent.version.splitHash,
    id: parent.version.parent ? await baseIdOf(projectDir, parent.version) : parent.version.id,
  };
  const imagesHash = images.length ? sha256(images.map((i) => `${i.hash}\t${i.label}`).join('\n')) : '';
  const id = sha256(parent.version.id + sha256(csv) + JSON.stringify(input.labelFixes ?? {}) + imagesHash).slice(0, 12);
  const recipe: VersionRecipe = {
    id,
    kind: input.kind,
    parent: parent.version.id,
    base,
    createdAt: new Date().toISOString(),
    rows: images.length ? images.length : input.rows.features.n,
    ...(input.labelFixes ? { labelFixes: input.labelFixes } : {}),
    details: input.details,
    ...(images.length ? { images: true } : {}),
  };
  const dir = join(versionsDir(projectDir), id);
  await assertInsideProject(projectDir, dir);
  const existing = await readRecipe(projectDir, id);
  if (existing) return existing;
  const tmp = `${dir}.${process.pid}.tmp`;
  await mkdir(tmp, { recursive: true });
  if (images.length) {
    await mkdir(join(tmp, 'images'));
    for (const img of images) await writeFile(join(tmp, img.file), img.bytes);
    const manifest = { images: images.map(({ bytes: _, ...rest }) => rest) };
    await writeFile(join(tmp, 'images.json'), JSON.stringify(manifest, null, 2) + '\n');
  } else await writeFile(join(tmp, 'rows.csv'), csv);
  await writeFile(join(tmp, 'recipe.json'), JSON.stringify(recipe, null, 2) + '\n');
  await rename(tmp, dir);
  return recipe;
}

async function baseIdOf(projectDir: string, version: DataVersion): Promise<string> {
  const recipe = await readRecipe(projectDir, version.id);
  if (!recipe) throw new Error(`No data version "${version.id}"`);
  return recipe.base.id;
}
