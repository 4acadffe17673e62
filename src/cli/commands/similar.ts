// ml-loop similar [DIR] --run RUN (--id ID… | --tag T | --slice S) [--k N] [--in train,dev,unlabelled] [--json]
// ml-loop similar [DIR] --add FILE=CLASS… [--from VERSION] [--json]
// "Find more like these": the images nearest to the given ones by the run's embedding, in the training
// set, the dev set and the project's unlabelled folder (data.unlabelled); and labelled picks of them
// added (as files) to a new data version.
import { resolve } from 'node:path';
import {
  addLabelledImages,
  SIMILAR_PLACES,
  similarImagesOfRun,
  type SimilarPlace,
} from '../../core/analysis/similarImages';
import { EXIT_OK, UsageError, type CliCommand } from '../command';
import { parseCommandArgs, projectDir } from '../options';

export const similarCommand: CliCommand = {
  name: 'similar',
  summary: 'Find images like failing ones by the run’s embedding (train, dev, unlabelled folder); add labelled picks',
  usage: `ml-loop similar [DIR] --run RUN (--id ID [--id ID…] | --tag T | --slice S) [--k N] [--in PLACES] [--json]
ml-loop similar [DIR] --add FILE=CLASS [--add FILE=CLASS…] [--from VERSION] [--json]

Ranks images by the cosine distance of the run's embedding (its model.onnx's "embedding" output) to
the mean embedding of the given images: example ids (ml-loop errors --json lists them), the images of
tag T, or the dev images of slice S. The run's model must have an "embedding" output.

  --run RUN        the run whose model embeds the images (id or label)
  --k N            images per place (default 8)
  --in PLACES      comma-separated: train, dev, unlabelled (default all; unlabelled needs
                   "unlabelled": "folder/" under "data" in mlloop.json)
  --add FILE=CLASS add image FILE (e.g. one of the unlabelled folder) to training with label CLASS,
                   in a new data version under DIR/.mlloop/data/<id>/ (the file itself is not moved)
  --from VERSION   with --add: build on this data version (default: the data's own)
  --json           print the result as JSON`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      run: { type: 'string' },
      id: { type: 'string', multiple: true },
      tag: { type: 'string' },
      slice: { type: 'string' },
      k: { type: 'string' },
      in: { type: 'string' },
      add: { type: 'string', multiple: true },
      from: { type: 'string' },
      json: { type: 'boolean' },
    });
    const dir = projectDir(positionals, io);
    if (values.add?.length) {
      const picks = values.add.map((a) => {
        const at = a.lastIndexOf('=');
        if (at <= 0 || at === a.length - 1) throw new UsageError(`--add takes FILE=CLASS, not "${a}"`);
        return { file: resolve(io.cwd, a.slice(0, at)), label: a.slice(at + 1) };
      });
      const recipe = await addLabelledImages({
        projectDir: dir,
        ...(typeof values.from === 'string' ? { parentVersion: values.from } : {}),
        picks,
      });
      if (values.json) io.out(JSON.stringify(recipe, null, 2));
      else
        io.out(
          `data version ${recipe.id}: ${recipe.rows} labelled image(s) added on ${recipe.parent}\ntrain on it: ml-loop train --experiment NAME --data-version ${recipe.id}`,
        );
      return EXIT_OK;
    }
    if (typeof values.run !== 'string') throw new UsageError('Give --run RUN (or --add FILE=CLASS)');
    const given = [values.id?.length ? 1 : 0, values.tag ? 1 : 0, values.slice ? 1 : 0].reduce((a, b) => a + b, 0);
    if (given !== 1) throw new UsageError('Give one of --id ID, --tag T or --slice S');
    const source = values.id?.length
      ? { ids: values.id }
      : values.tag
        ? { tag: values.tag }
        : { slice: values.slice as string };
    const k = values.k === undefined ? 8 : Number(values.k);
    if (!Number.isInteger(k) || k < 1 || k > 1000)
      throw new UsageError(`--k must be a whole number from 1 to 1000, not "${values.k}"`);
    const places = (values.in ?? SIMILAR_PLACES.join(',')).split(',').map((s) => s.trim()) as SimilarPlace[];
    const wrong = places.filter((pl) => !SIMILAR_PLACES.includes(pl));
    if (wrong.length) throw new UsageError(`--in takes ${SIMILAR_PLACES.join(', ')}; not: ${wrong.join(', ')}`);
    const r = await similarImagesOfRun({ projectDir: dir, run: values.run, source, k, places });
    if (values.json) {
      io.out(JSON.stringify(r, null, 2));
      return EXIT_OK;
    }
    const lines: string[] = [`images like these by run ${r.runId}'s embedding (cosine distance):`];
    for (const place of places) {
      lines.push(`${place}:`);
      const found = r.results[place];
      if (!found.length) lines.push('  (none)');
      for (const x of found)
        lines.push(
          `  ${x.distance.toFixed(4)}  ${x.file}${x.label !== undefined ? `  ${r.classes[x.label] ?? x.label}` : ''}`,
        );
    }
    for (const s of r.skipped) lines.push(`skipped ${s.file}: ${s.error}`);
    io.out(lines.join('\n'));
    return EXIT_OK;
  },
};
