// Where an image project's examples are: the one module that reads the three layouts of mlloop.json
//   class folders   data.images = "images": images/<class>/…/<file>.png|jpg|jpeg|webp
//   split folders   + "split": "folders":   images/train|dev|test/<class>/…
//   a CSV manifest  data.path = "labels.csv", data.imageColumn: file paths relative to the CSV, the
//                   target column, an optional split column, other columns kept as metadata.
// Returns the examples (absolute file, class, split given by the layout, metadata) and what is wrong,
// each problem naming its file(s). Folders are walked following symbolic links, each real folder once
// (a link loop is reported, never followed forever).
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import Papa from 'papaparse';
import type { ProjectSpec } from '../../spec/types';
import { isColumnSplit, isFoldersSplit } from '../../spec/types';
import { DEV, NO_SPLIT, TEST, TRAIN } from '../split';
import { isImageFileName } from './preprocess';

export interface ImageExample {
  /** Absolute path. */
  file: string;
  label: string;
  /** TRAIN/DEV/TEST when the layout gives the split (folders, a split column), else NO_SPLIT. */
  split: number;
  /** Manifest rows: the row's other columns. */
  metadata?: Record<string, string>;
  /** Manifest rows: the 1-based line of the CSV. */
  line?: number;
}

/** What is wrong with an image project's input; `files` are the files (or folders) it is about. */
export interface ImageInputProblem {
  severity: 'error' | 'warning' | 'information';
  code: string;
  message: string;
  files: string[];
  /** The key of mlloop.json that caused it (for the Problems panel). */
  specPath: (string | number)[];
}

export interface ImageListing {
  /** The images folder or the manifest (absolute). */
  source: string;
  examples: ImageExample[];
  /** Files under the folders that are not images by their extension (skipped). */
  skippedFiles: number;
  problems: ImageInputProblem[];
}

const SPLIT_VALUES: Record<string, number> = { train: TRAIN, dev: DEV, test: TEST };
/** Files named in a problem's message (the rest are counted). */
const NAMED = 5;

export function nameFiles(files: string[], base: string): string {
  const shown = files.slice(0, NAMED).map((f) => relative(base, f) || f);
  return shown.join(', ') + (files.length > NAMED ? ` and ${files.length - NAMED} more` : '');
}

/** Lists the examples of an image project (spec.data.images or spec.data.imageColumn). */
export async function listImageExamples(spec: ProjectSpec, projectDir: string): Promise<ImageListing> {
  const listing =
    spec.data.images !== undefined
      ? await listFolders(spec, resolve(projectDir, spec.data.images), projectDir)
      : await listManifest(spec, resolve(projectDir, spec.data.path!), projectDir);
  if (spec.data.unlabelled !== undefined)
    listing.problems.push(...(await listUnlabelledImages(spec, projectDir)).problems);
  return listing;
}

/**
 * The image files of data.unlabelled (sorted, sub-folders included), and what is wrong with it: a
 * missing folder, no images, or a folder inside data.images (whose sub-folders are classes).
 */
export async function listUnlabelledImages(
  spec: ProjectSpec,
  projectDir: string,
): Promise<{ folder: string; files: string[]; problems: ImageInputProblem[] }> {
  const at = ['data', 'unlabelled'];
  const folder = resolve(projectDir, spec.data.unlabelled ?? '');
  const problems: ImageInputProblem[] = [];
  const shown = relative(projectDir, folder) || folder;
  const isDir = await stat(folder).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) {
    problems.push({
      severity: 'warning',
      code: 'unlabelled-not-found',
      message: `The unlabelled images folder ${shown} does not exist (looked for ${folder})`,
      files: [folder],
      specPath: at,
    });
    return { folder, files: [], problems };
  }
  if (spec.data.images !== undefined) {
    const inside = relative(resolve(projectDir, spec.data.images), folder);
    if (!inside.startsWith('..') && !isAbsolute(inside)) {
      problems.push({
        severity: 'error',
        code: 'unlabelled-inside-images',
        message: `The unlabelled folder ${shown} is inside the images folder ${spec.data.images}, whose sub-folders are classes: move it out`,
        files: [folder],
        specPath: at,
      });
      return { folder, files: [], problems };
    }
  }
  const w: Walk = { files: [], skipped: 0, loops: [], unreadable: [] };
  await walk(folder, new Set(), w);
  if (!w.files.length)
    problems.push({
      severity: 'information',
      code: 'unlabelled-empty',
      message: `The unlabelled folder ${shown} holds no .png, .jpg, .jpeg or .webp files yet`,
      files: [folder],
      specPath: at,
    });
  return { folder, files: w.files, problems };
}

interface Walk {
  files: string[];
  skipped: number;
  loops: string[];
  unreadable: string[];
}

/** Every image file under `dir` (sorted, recursive, links followed once per real folder). */
async function walk(dir: string, seen: Set<string>, out: Walk): Promise<void> {
  let real: string;
  try {
    real = await realpath(dir);
  } catch {
    out.unreadable.push(dir);
    return;
  }
  if (seen.has(real)) {
    out.loops.push(dir);
    return;
  }
  seen.add(real);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    out.unreadable.push(dir);
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const st = await stat(path);
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        // A dangling link, or one in a loop of links (ELOOP).
        out.loops.push(path);
        continue;
      }
    }
    if (isDir) await walk(path, seen, out);
    else if (isFile && isImageFileName(e.name)) out.files.push(path);
    else if (isFile) out.skipped++;
  }
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const isDir =
      e.isDirectory() ||
      (e.isSymbolicLink() &&
        (await stat(join(dir, e.name)).then(
          (s) => s.isDirectory(),
          () => false,
        )));
    if (isDir) out.push(e.name);
  }
  return out.sort();
}

async function listFolders(spec: ProjectSpec, root: string, projectDir: string): Promise<ImageListing> {
  const problems: ImageInputProblem[] = [];
  const listing: ImageListing = { source: root, examples: [], skippedFiles: 0, problems };
  const at = ['data', 'images'];
  try {
    if (!(await stat(root)).isDirectory()) throw new Error('not a folder');
  } catch {
    problems.push({
      severity: 'error',
      code: 'images-not-found',
      message: `The images folder ${relative(projectDir, root) || root} does not exist (looked for ${root})`,
      files: [root],
      specPath: at,
    });
    return listing;
  }
  const byFolders = spec.data.split !== undefined && isFoldersSplit(spec.data.split);
  const seen = new Set<string>();
  const w: Walk = { files: [], skipped: 0, loops: [], unreadable: [] };
  const looseFiles: string[] = [];
  const classDirs: { dir: string; label: string; split: number }[] = [];
  if (byFolders) {
    const names = await subfolders(root);
    const missing = ['train', 'dev'].filter((s) => !names.includes(s));
    if (missing.length) {
      problems.push({
        severity: 'error',
        code: 'images-split-folders',
        message: `With "split": "folders", ${relative(projectDir, root)} must hold train/, dev/ (and optionally test/) folders; missing: ${missing.join(', ')} (found: ${names.join(', ') || 'nothing'})`,
        files: [root],
        specPath: ['data', 'split'],
      });
    }
    for (const s of names.filter((n) => n in SPLIT_VALUES))
      for (const c of await subfolders(join(root, s)))
        classDirs.push({ dir: join(root, s, c), label: c, split: SPLIT_VALUES[s] });
  } else {
    for (const c of await subfolders(root)) classDirs.push({ dir: join(root, c), label: c, split: NO_SPLIT });
  }
  for (const e of await readdir(root, { withFileTypes: true }))
    if (e.isFile() && isImageFileName(e.name)) looseFiles.push(join(root, e.name));
  const perClass = new Map<string, string[]>();
  for (const { dir, label, split } of classDirs) {
    const before = w.files.length;
    await walk(dir, seen, w);
    for (const file of w.files.slice(before)) listing.examples.push({ file, label, split });
    perClass.set(label, [...(perClass.get(label) ?? []), ...w.files.slice(before)]);
  }
  listing.skippedFiles = w.skipped;
  if (looseFiles.length) {
    problems.push({
      severity: 'warning',
      code: 'images-outside-class',
      message: `${looseFiles.length} image(s) directly in ${relative(projectDir, root)} belong to no class folder and are left out: ${nameFiles(looseFiles, projectDir)}`,
      files: looseFiles,
      specPath: at,
    });
  }
  if (w.loops.length) {
    problems.push({
      severity: 'warning',
      code: 'images-symlink-loop',
      message: `Symbolic link(s) that loop or lead nowhere, not followed: ${nameFiles(w.loops, projectDir)}`,
      files: w.loops,
      specPath: at,
    });
  }
  if (w.unreadable.length) {
    problems.push({
      severity: 'warning',
      code: 'images-folder-unreadable',
      message: `Folder(s) that could not be read: ${nameFiles(w.unreadable, projectDir)}`,
      files: w.unreadable,
      specPath: at,
    });
  }
  if (!listing.examples.length) {
    const where = classDirs.length
      ? `its ${classDirs.length} class folder(s) hold no .png, .jpg, .jpeg or .webp files`
      : `it has no class folders (expected ${relative(projectDir, root)}/<class>/<image files>${byFolders ? ' under train/ and dev/' : ''})`;
    problems.push({
      severity: 'error',
      code: 'images-none',
      message: `No images in ${relative(projectDir, root) || root}: ${where}`,
      files: [root],
      specPath: at,
    });
    return listing;
  }
  const empty = [...perClass].filter(([, f]) => f.length === 0).map(([c]) => c);
  if (empty.length)
    problems.push({
      severity: 'warning',
      code: 'images-empty-class',
      message: `Class folder(s) with no images, left out: ${empty.join(', ')}`,
      files: empty.map((c) => join(root, c)),
      specPath: at,
    });
  singleImageClasses(perClass, problems, projectDir, at);
  if (spec.task === 'classification' && new Set(listing.examples.map((e) => e.label)).size < 2) {
    problems.push({
      severity: 'error',
      code: 'data-target-classes',
      message: `${relative(projectDir, root)} has one class folder (${listing.examples[0].label}): classification needs at least 2`,
      files: [root],
      specPath: at,
    });
  }
  return listing;
}

function singleImageClasses(
  perClass: Map<string, string[]>,
  problems: ImageInputProblem[],
  projectDir: string,
  at: (string | number)[],
): void {
  const single = [...perClass].filter(([, f]) => f.length === 1);
  if (!single.length) return;
  problems.push({
    severity: 'warning',
    code: 'images-one-per-class',
    message: `${single.length} class(es) have a single image, so they cannot be in both train and dev: ${single
      .map(([c, f]) => `${c} (${relative(projectDir, f[0])})`)
      .slice(0, NAMED)
      .join(', ')}`,
    files: single.map(([, f]) => f[0]),
    specPath: at,
  });
}

async function listManifest(spec: ProjectSpec, csvFile: string, projectDir: string): Promise<ImageListing> {
  const problems: ImageInputProblem[] = [];
  const listing: ImageListing = { source: csvFile, examples: [], skippedFiles: 0, problems };
  let text: string;
  try {
    text = await readFile(csvFile, 'utf8');
  } catch {
    problems.push({
      severity: 'error',
      code: 'data-not-found',
      message: `The manifest ${spec.data.path} does not exist (looked for ${csvFile})`,
      files: [csvFile],
      specPath: ['data', 'path'],
    });
    return listing;
  }
  const parsed = Papa.parse<string[]>(text.replace(/^\uFEFF/, ''), { skipEmptyLines: true });
  const [header = [], ...rows] = parsed.data;
  const imageColumn = spec.data.imageColumn!;
  const splitColumn =
    spec.data.split !== undefined && isColumnSplit(spec.data.split) ? spec.data.split.column : undefined;
  const col = (name: string | undefined, key: (string | number)[]) => {
    if (name === undefined) return -1;
    const i = header.indexOf(name);
    if (i < 0)
      problems.push({
        severity: 'error',
        code: 'data-unknown-column',
        message: `The manifest ${basename(csvFile)} has no column "${name}" (its columns: ${header.join(', ')})`,
        files: [csvFile],
        specPath: key,
      });
    return i;
  };
  const fileIdx = col(imageColumn, ['data', 'imageColumn']);
  const targetIdx = col(spec.data.target, ['data', 'target']);
  const splitIdx = col(splitColumn, ['data', 'split', 'column']);
  if (problems.length) return listing;
  const base = dirname(csvFile);
  const missing: string[] = [];
  const missingLines: number[] = [];
  const badSplit: number[] = [];
  const perClass = new Map<string, string[]>();
  await Promise.all(
    rows.map(async (fields, k) => {
      const line = k + 2;
      const name = fields[fileIdx]?.trim();
      const label = fields[targetIdx]?.trim();
      if (!name || !label) return; // no file or no class: in no split, like a row without a target
      const file = resolve(base, name.split('/').join(sep));
      const ok = await stat(file).then(
        (s) => s.isFile(),
        () => false,
      );
      if (!ok) {
        missing.push(file);
        missingLines.push(line);
        return;
      }
      let split = NO_SPLIT;
      if (splitIdx >= 0) {
        const v = fields[splitIdx]?.trim().toLowerCase();
        if (v in SPLIT_VALUES) split = SPLIT_VALUES[v];
        else badSplit.push(line);
      }
      const metadata: Record<string, string> = {};
      header.forEach((h, i) => {
        if (i !== fileIdx && i !== targetIdx && i !== splitIdx) metadata[h] = fields[i] ?? '';
      });
      listing.examples[k] = { file, label, split, metadata, line };
    }),
  );
  listing.examples = listing.examples.filter(Boolean);
  for (const e of listing.examples) perClass.set(e.label, [...(perClass.get(e.label) ?? []), e.file]);
  if (missing.length) {
    const order = missingLines
      .map((l, i) => [l, i])
      .sort((a, b) => a[0] - b[0])
      .map(([, i]) => i);
    const shown = order.slice(0, NAMED).map((i) => `line ${missingLines[i]}: ${relative(base, missing[i])}`);
    problems.push({
      severity: 'error',
      code: 'images-missing-files',
      message: `The manifest ${basename(csvFile)} names ${missing.length} file(s) that do not exist: ${shown.join('; ')}${missing.length > NAMED ? ` and ${missing.length - NAMED} more` : ''}`,
      files: order.map((i) => missing[i]),
      specPath: ['data', 'imageColumn'],
    });
  }
  if (badSplit.length) {
    problems.push({
      severity: 'warning',
      code: 'data-bad-split-value',
      message: `${badSplit.length} manifest row(s) have a split value that is not train, dev or test and are left out (lines ${badSplit.slice(0, NAMED).join(', ')})`,
      files: [csvFile],
      specPath: ['data', 'split', 'column'],
    });
  }
  if (!listing.examples.length && !missing.length)
    problems.push({
      severity: 'error',
      code: 'images-none',
      message: `The manifest ${basename(csvFile)} names no images`,
      files: [csvFile],
      specPath: ['data', 'path'],
    });
  singleImageClasses(perClass, problems, projectDir, ['data', 'path']);
  return listing;
}
