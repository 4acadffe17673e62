// Loads a project folder: mlloop.json (syntax, schema, consistency) and its data (the file, the
// columns named in the spec, typing, classes, the split). Each problem is located at the offending
// value in mlloop.json, or at its line in the data file.
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ColumnScan } from '../data/scan';
import { DataError } from '../data/errors';
import type { ReadOptions } from '../data/reader';
import { dataProblemSeverity, scanTable, type TableScan } from '../data/scan';
import { splitScannedRows } from '../data/dataset';
import { countSplits } from '../data/split';
import type { DataVersion } from '../data/types';
import { getNodeValue } from 'jsonc-parser';
import { JsonDocument } from '../spec/jsonLocation';
import { parseProjectDocument } from '../spec/parse';
import { closestNames, type Problem, type ProblemFix } from '../spec/problems';
import { projectSchema } from '../spec/schema';
import type { ProjectSpec } from '../spec/types';
import { DEFAULT_SPLIT, isColumnSplit, isFoldersSplit, isImageProject, isScriptExperiment } from '../spec/types';
import { ImageDataError, loadImageCollection } from '../data/images/imageDataset';
import { listImageExamples } from '../data/images/layout';
import { PROJECT_FILE } from '../spec/layout';
import { cnnShapeProblem } from '../spec/cnnShape';
import { defaultParams } from '../spec/schema';

/** Blocks of a cnn experiment that gives no `channels`. */
const CNN_DEFAULT_BLOCKS = defaultParams('cnn').channels.length;

export interface LoadProjectOptions extends ReadOptions {
  /** Check the data file too (default true). */
  checkData?: boolean;
}

export interface LoadedProject {
  /** Absolute path of mlloop.json. */
  file: string;
  /** Set when mlloop.json itself is valid (data problems may remain: see problems). */
  spec?: ProjectSpec;
  problems: Problem[];
  /** The source text of mlloop.json (for locating later findings, e.g. profileFindingsToProblems). */
  text?: string;
  /** Absolute path of the data file, when the spec names one. */
  dataFile?: string;
  /** Set when the data could be read. */
  data?: {
    rows: number;
    columns: string[];
    version: DataVersion;
    split: { train: number; dev: number; test: number };
    classes?: string[];
  };
}

export function hasErrors(problems: Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** Loads and checks the project in `dir` (the folder holding mlloop.json). Never throws for bad input. */
export async function loadProject(dir: string, opts: LoadProjectOptions = {}): Promise<LoadedProject> {
  const file = resolve(dir, PROJECT_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {
      file,
      problems: [
        {
          severity: 'error',
          code: 'no-project',
          message: `No ${PROJECT_FILE} in ${resolve(dir)}`,
          file,
          line: 1,
          column: 1,
        },
      ],
    };
  }
  const doc = new JsonDocument(text);
  const { spec: valid, problems } = parseProjectDocument(doc, file);
  // Schema errors elsewhere leave the data readable: its problems show at the same time as theirs.
  const spec = valid ?? dataSpecOf(doc, problems);
  if (!spec) return { file, problems, text };
  if (valid) problems.push(...specConsistencyProblems(valid, doc, file));
  const dataFile = resolve(dirname(file), spec.data.path ?? spec.data.images!);
  const loaded: LoadedProject = { file, ...(valid ? { spec: valid } : {}), problems, text, dataFile };
  if (opts.checkData === false) return loaded;

  const at = (path: (string | number)[], code: string, message: string, severity: Problem['severity'] = 'error') =>
    problems.push(doc.problemAt(path, file, severity, code, message));
  if (isImageProject(spec)) {
    // The layout's problems (no images, a missing folder or manifest file, link loops, …) at the key
    // that caused them; unreadable files and the audit come with the profile (they need decoding).
    const listing = await listImageExamples(spec, dirname(file));
    for (const p of listing.problems) at(p.specPath, p.code, p.message, p.severity);
    if (hasErrors(problems)) return loaded;
    try {
      // Through the decoded-image cache (the profile that follows reads it back); the split is not stored by a check.
      const c = await loadImageCollection({ spec, projectFile: file }, { storeSplit: false });
      const split = countSplits(c.split);
      loaded.data = { rows: c.records.length, columns: [], version: c.version, split, classes: c.classes };
      if (valid && !spec.data.imageSize)
        problems.push(...cnnShapeProblems(valid, doc, file, c.settings.height, c.settings.width));
      if (split.dev === 0)
        at(
          spec.data.split !== undefined ? ['data', 'split'] : ['data'],
          'data-no-dev-rows',
          `The split leaves no dev images (of ${c.records.length})`,
        );
    } catch (e) {
      if (!(e instanceof ImageDataError)) throw e;
      at(e.problem.specPath, e.problem.code, e.problem.message);
    }
    return loaded;
  }
  try {
    const st = await stat(dataFile);
    if (!st.isFile()) throw new Error('not a file');
  } catch {
    at(['data', 'path'], 'data-not-found', `The data file ${spec.data.path} does not exist (looked for ${dataFile})`);
    return loaded;
  }
  let scan: TableScan;
  try {
    scan = await scanTable(spec, dataFile, opts);
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    problems.push(e.toProblem());
    const where = e.code === 'data-too-large' ? '' : ` (line ${e.line})`;
    at(['data', 'path'], e.code, `${spec.data.path}${where}: ${e.detail}`);
    return loaded;
  }
  problems.push(...scan.problems.map((p) => p.toProblem(dataProblemSeverity(p))));
  const columnList = listColumns(scan.header);
  for (const m of scan.missingColumns) {
    const path =
      m.role === 'target'
        ? ['data', 'target']
        : m.role === 'split'
          ? ['data', 'split', 'column']
          : ['data', m.role === 'feature' ? 'features' : 'categorical', m.index!];
    const near = closestNames(m.name, scan.header);
    const hint = near.length ? `: did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : '';
    const problem = doc.problemAt(
      path,
      file,
      'error',
      'data-unknown-column',
      `The data has no column "${m.name}"${hint} (its columns: ${columnList})`,
    );
    if (near.length)
      problem.fixes = near.map((n) => ({ title: `Use column "${n}"`, edits: [{ jsonPath: path, value: n }] }));
    problems.push(problem);
  }
  if (!scan.features.length)
    at(['data'], 'data-no-features', 'No feature columns: the data holds only the target (and split) columns');
  if (!spec.data.split || !isColumnSplit(spec.data.split)) {
    for (const column of scan.features.filter(looksLikeSplitColumn)) {
      const index = spec.data.features?.indexOf(column.name) ?? -1;
      const problem = doc.problemAt(
        index >= 0 ? ['data', 'features', index] : ['data'],
        file,
        'warning',
        'split-column-as-feature',
        `The column "${column.name}" looks like a train/dev/test split but is used as a feature: add "split": { "column": "${column.name}" } to "data" to split by it`,
      );
      const edits: ProblemFix['edits'] = [{ jsonPath: ['data', 'split'], value: { column: column.name } }];
      if (index >= 0) edits.push({ jsonPath: ['data', 'features', index], value: undefined });
      problem.fixes = [{ title: `Split the data by column "${column.name}"`, edits }];
      problems.push(problem);
    }
  }
  if (spec.task === 'classification' && scan.target) {
    const classes = scan.target.strings.size;
    if (classes < 2) {
      const only = classes === 1 ? `: every row is "${[...scan.target.strings.keys()][0]}"` : '';
      at(
        ['data', 'target'],
        'data-target-classes',
        `The target "${spec.data.target}" has ${classes} class${classes === 1 ? '' : 'es'}${only}; classification needs at least 2`,
      );
    }
  }
  if (spec.data.image && scan.features.length) {
    const { width, height, channels = 1 } = spec.data.image;
    if (width * height * channels !== scan.features.length) {
      at(
        ['data', 'image'],
        'image-size',
        `An image of ${width}×${height}×${channels} has ${width * height * channels} pixels, but there are ${scan.features.length} feature columns`,
      );
    }
    const categorical = scan.features.filter((f) => f.kind === 'categorical').map((f) => f.name);
    if (categorical.length)
      at(
        ['data', 'image'],
        'image-size',
        `Image pixels must be numbers; not numeric: ${categorical.slice(0, 5).join(', ')}`,
      );
  }
  if (scan.target) {
    const { split, version, classes } = splitScannedRows(spec, scan);
    const counts = countSplits(split);
    loaded.data = { rows: scan.rows, columns: scan.header, version, split: counts, classes };
    const splitPath = !spec.data.split
      ? ['data']
      : isColumnSplit(spec.data.split)
        ? ['data', 'split', 'column']
        : ['data', 'split', 'dev'];
    const total = counts.train + counts.dev + counts.test;
    if (total > 0 && counts.dev === 0)
      at(
        splitPath,
        'data-no-dev-rows',
        `The split leaves no dev rows (of ${total} rows): raise the dev fraction or use more data`,
      );
    if (total > 0 && counts.train === 0 && !problems.some((p) => p.code === 'data-no-train-rows'))
      at(splitPath, 'data-no-train-rows', `The split leaves no training rows (of ${total} rows)`);
  }
  return loaded;
}

/**
 * The part of an invalid project the data checks need (task and data), when the schema errors are all
 * elsewhere (a metric or model typo): undefined when the text does not parse or "data"/"task" are wrong.
 */
function dataSpecOf(doc: JsonDocument, problems: Problem[]): ProjectSpec | undefined {
  if (
    !doc.tree ||
    problems.some((p) => p.code !== 'schema' || p.jsonPath?.[0] === 'data' || p.jsonPath?.[0] === 'task')
  )
    return undefined;
  const value = JSON.parse(JSON.stringify(getNodeValue(doc.tree))) as Partial<ProjectSpec>;
  const data = value.data as Partial<ProjectSpec['data']> | undefined;
  if (
    !data ||
    typeof data.path !== 'string' ||
    typeof data.target !== 'string' ||
    (value.task !== 'classification' && value.task !== 'regression')
  )
    return undefined;
  return value as ProjectSpec;
}

/** The image keys that only make sense together. */
function imageSpecProblems(spec: ProjectSpec, doc: JsonDocument, file: string): Problem[] {
  const out: Problem[] = [];
  const d = spec.data;
  if (d.images !== undefined && d.path !== undefined)
    out.push(
      doc.problemAt(
        ['data', 'path'],
        file,
        'error',
        'images-and-path',
        'data.images (image folders) and data.path (a table or a manifest with imageColumn) are alternatives: keep one',
      ),
    );
  if (d.imageColumn !== undefined && d.path === undefined)
    out.push(
      doc.problemAt(
        ['data', 'imageColumn'],
        file,
        'error',
        'image-column-without-path',
        'data.imageColumn names a column of the manifest in data.path, which is missing',
      ),
    );
  if (d.split !== undefined && isFoldersSplit(d.split) && d.images === undefined)
    out.push(
      doc.problemAt(
        ['data', 'split'],
        file,
        'error',
        'folders-split-without-images',
        '"split": "folders" needs image folders (data.images)',
      ),
    );
  if (d.image !== undefined)
    out.push(
      doc.problemAt(
        ['data', 'image'],
        file,
        'error',
        'image-and-images',
        'data.image describes pixel columns of a table; image files use data.imageSize and data.channels',
      ),
    );
  if (d.features !== undefined)
    out.push(
      doc.problemAt(
        ['data', 'features'],
        file,
        'error',
        'image-features',
        'An image project has no feature columns: its model takes the image',
      ),
    );
  return out;
}

/** Every column when there are few (a wide table, e.g. image pixels, is cut after 40). */
function listColumns(header: string[]): string {
  return header.length > 40 ? `${header.slice(0, 40).join(', ')}, … (${header.length} in all)` : header.join(', ');
}

const SPLIT_NAMES = /^(split|fold|set|subset|partition)$/i;
const SPLIT_LABELS = new Set(['train', 'training', 'dev', 'valid', 'val', 'validation', 'test']);

/** A column named like a split, or whose values are all train/dev/test labels (at least two of them). */
function looksLikeSplitColumn(column: ColumnScan): boolean {
  if (SPLIT_NAMES.test(column.name)) return true;
  if (column.kind !== 'categorical' || column.distinctCapped || column.strings.size < 2) return false;
  return [...column.strings.keys()].every((v) => SPLIT_LABELS.has(v.toLowerCase()));
}

const MODEL_TASKS: Record<string, string[]> = {
  linear: ['regression'],
  logistic: ['classification'],
  mlp: ['classification', 'regression'],
  gbdt: ['classification', 'regression'],
  cnn: ['classification'],
};

/** Where a cnn experiment's blocks are given (or its model, when they are the default). */
function cnnBlocksPath(name: string, exp: { params?: Record<string, unknown> }): (string | number)[] {
  return exp.params?.channels !== undefined
    ? ['experiments', name, 'params', 'channels']
    : ['experiments', name, 'model'];
}

/** cnn experiments whose blocks pool images of height × width below 1×1. */
function cnnShapeProblems(
  spec: ProjectSpec,
  doc: JsonDocument,
  file: string,
  height: number,
  width: number,
): Problem[] {
  const out: Problem[] = [];
  for (const [name, exp] of Object.entries(spec.experiments)) {
    if (isScriptExperiment(exp) || exp.model !== 'cnn') continue;
    const channels = exp.params?.channels;
    const blocks = Array.isArray(channels) ? channels.length : CNN_DEFAULT_BLOCKS;
    const why = cnnShapeProblem(height, width, blocks);
    if (why) out.push(doc.problemAt(cnnBlocksPath(name, exp), file, 'error', 'cnn-shape', why));
  }
  return out;
}

/** Checks the schema cannot express: fractions that add up, roles that don't overlap, models fit for the task, sweeps over real parameters. */
function specConsistencyProblems(spec: ProjectSpec, doc: JsonDocument, file: string): Problem[] {
  const out: Problem[] = [];
  const split = spec.data.split ?? DEFAULT_SPLIT;
  if (isImageProject(spec)) out.push(...imageSpecProblems(spec, doc, file));
  // Images of a given size: the blocks are checked here; otherwise once the data gives the size.
  if (isImageProject(spec) && spec.data.imageSize)
    out.push(...cnnShapeProblems(spec, doc, file, spec.data.imageSize[0], spec.data.imageSize[1]));
  if (!isColumnSplit(split) && !isFoldersSplit(split) && split.dev + (split.test ?? 0) >= 1) {
    out.push(
      doc.problemAt(
        ['data', 'split', 'test' in split ? 'test' : 'dev'],
        file,
        'error',
        'data-no-train-rows',
        `dev + test is ${split.dev + (split.test ?? 0)}: the split leaves no training rows`,
      ),
    );
  }
  spec.data.features?.forEach((f, i) => {
    if (f === spec.data.target)
      out.push(
        doc.problemAt(
          ['data', 'features', i],
          file,
          'error',
          'feature-is-target',
          `The target "${f}" cannot also be a feature`,
        ),
      );
    if (isColumnSplit(split) && f === split.column)
      out.push(
        doc.problemAt(
          ['data', 'features', i],
          file,
          'error',
          'feature-is-split',
          `The split column "${f}" is never a feature`,
        ),
      );
  });
  if (isColumnSplit(split) && split.column === spec.data.target) {
    out.push(
      doc.problemAt(
        ['data', 'split', 'column'],
        file,
        'error',
        'split-is-target',
        'The split column cannot be the target',
      ),
    );
  }
  for (const [name, exp] of Object.entries(spec.experiments)) {
    if (exp.cluster !== undefined && !spec.clusters?.[exp.cluster]) {
      const names = Object.keys(spec.clusters ?? {});
      out.push(
        doc.problemAt(
          ['experiments', name, 'cluster'],
          file,
          'error',
          'unknown-cluster',
          `No cluster "${exp.cluster}" in "clusters"${names.length ? ` (clusters: ${names.join(', ')})` : ''}`,
        ),
      );
    }
    if (isScriptExperiment(exp)) continue;
    if (exp.model === 'cnn' && !isImageProject(spec)) {
      out.push(
        doc.problemAt(
          ['experiments', name, 'model'],
          file,
          'error',
          'model-needs-images',
          'The cnn model takes images: use it in an image project (data.images, or data.path with data.imageColumn)',
        ),
      );
      continue;
    }
    if (exp.model !== 'cnn' && isImageProject(spec)) {
      out.push(
        doc.problemAt(
          ['experiments', name, 'model'],
          file,
          'error',
          'model-needs-features',
          `The ${exp.model} model takes feature columns; an image project's model takes the image: use "cnn" or a script`,
        ),
      );
      continue;
    }
    if (!MODEL_TASKS[exp.model].includes(spec.task)) {
      const instead = spec.task === 'classification' ? 'logistic' : 'linear';
      out.push(
        doc.problemAt(
          ['experiments', name, 'model'],
          file,
          'error',
          'model-task',
          `The ${exp.model} model does not do ${spec.task}; use "${instead}", "mlp" or "gbdt"`,
        ),
      );
    }
    const known = Object.keys(
      (projectSchema.definitions as Record<string, { properties?: object }>)[`${exp.model}Params`]?.properties ?? {},
    );
    for (const p of Object.keys(exp.sweep ?? {})) {
      if (!known.includes(p))
        out.push(
          doc.problemAt(
            ['experiments', name, 'sweep', p],
            file,
            'error',
            'sweep-param',
            `"${p}" is not a parameter of ${exp.model} (${known.join(', ')})`,
            true,
          ),
        );
    }
  }
  if (spec.data.unlabelled !== undefined && !isImageProject(spec))
    out.push(
      doc.problemAt(
        ['data', 'unlabelled'],
        file,
        'error',
        'unlabelled-without-images',
        'data.unlabelled is a folder of unlabelled images: it needs an image project (data.images or data.imageColumn)',
      ),
    );
  return out;
}
