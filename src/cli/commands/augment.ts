// ml-loop augment [DIR] (--slice S | --tag T) --count N [--seed S] [--method image|smote|noise] [--from VERSION] [--json]
// ml-loop augment [DIR] --add FILE [--from VERSION]: a new data version with synthetic (or added)
// training rows, recorded under .mlloop/data/<id>/ with its recipe; train on it with
// `ml-loop train --data-version <id>`.
import { resolve } from 'node:path';
import { addDataFromCsv, augmentToVersion } from '../../core/analysis/analysis';
import type { AugmentMethod } from '../../core/analysis/augment';
import type { VersionRecipe } from '../../core/data/dataVersions';
import { EXIT_OK, UsageError, type CliCommand } from '../command';
import { parseCommandArgs, projectDir } from '../options';

const METHODS: AugmentMethod[] = ['image', 'smote', 'noise'];

export const augmentCommand: CliCommand = {
  name: 'augment',
  summary: 'Make a new data version with synthetic training examples of a tag or slice (or rows from a CSV)',
  usage: `ml-loop augment [DIR] (--slice S | --tag T) --count N [--seed S] [--method M] [--from VERSION] [--json]
ml-loop augment [DIR] --add FILE [--from VERSION] [--json]

Adds N synthetic training examples made from the training examples of tag T (or, when no training
example carries it, the nearest training neighbours of the tagged dev examples) or of slice S (a key
printed by ml-loop errors, e.g. 'px20>3&px21<=0'). Dev and test are never changed; the data file is
never written. The new version lives in DIR/.mlloop/data/<id>/ (rows.csv, recipe.json).
Image projects (data.images, data.imageColumn): new image files made by transforms aimed at the tag
or slice (darker, flatter or blurrier when its images are; rotations, crops, noise… when the tag says
so; mild flips, rotations and shifts) from training images of its classes, written as PNG files
under DIR/.mlloop/data/<id>/images/ with their provenance in images.json (--method does not apply).

  --count N        synthetic examples to add (required with --slice/--tag)
  --seed S         seed (default 0): the same seed and recipe give the same version
  --method M       image (default for data.image projects: shifts, rotations, noise), smote (default
                   otherwise: interpolation between same-class neighbours) or noise (scaled to each feature's spread)
  --add FILE       add the labelled rows of a CSV (the features and the target as columns) instead
  --from VERSION   build on this data version (default: the data file's own)
  --json           print the new version's recipe as JSON`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      slice: { type: 'string' },
      tag: { type: 'string' },
      count: { type: 'string', short: 'n' },
      seed: { type: 'string' },
      method: { type: 'string' },
      add: { type: 'string' },
      from: { type: 'string' },
      json: { type: 'boolean' },
    });
    const dir = projectDir(positionals, io);
    const parentVersion = typeof values.from === 'string' ? values.from : undefined;
    let recipe: VersionRecipe;
    if (typeof values.add === 'string') {
      recipe = await addDataFromCsv({ projectDir: dir, parentVersion, csvFile: resolve(io.cwd, values.add) });
    } else {
      const source =
        typeof values.tag === 'string'
          ? { tag: values.tag }
          : typeof values.slice === 'string'
            ? { slice: values.slice }
            : undefined;
      if (!source || (values.tag !== undefined && values.slice !== undefined))
        throw new UsageError('Give one of --slice S or --tag T (or --add FILE)');
      const count = Number(values.count);
      if (!Number.isInteger(count) || count < 1)
        throw new UsageError(`--count must be a whole number ≥ 1, not "${values.count ?? ''}"`);
      const seed = values.seed === undefined ? 0 : Number(values.seed);
      if (!Number.isInteger(seed)) throw new UsageError(`--seed must be a whole number, not "${values.seed}"`);
      const method = values.method as AugmentMethod | undefined;
      if (method !== undefined && !METHODS.includes(method))
        throw new UsageError(`--method must be one of ${METHODS.join(', ')}`);
      recipe = await augmentToVersion({
        projectDir: dir,
        parentVersion,
        recipe: { source, count, seed, ...(method ? { method } : {}) },
      });
    }
    if (values.json) io.out(JSON.stringify(recipe, null, 2));
    else
      io.out(
        `data version ${recipe.id}: ${recipe.rows} ${recipe.kind === 'add' ? 'added' : 'synthetic'} training rows on ${recipe.parent}\ntrain on it: ml-loop train --experiment NAME --data-version ${recipe.id}`,
      );
    return EXIT_OK;
  },
};
