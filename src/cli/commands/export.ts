// ml-loop export triton|kserve --run RUN --out DIR: the run's model for a cluster server that speaks the
// same protocol (Triton Inference Server repository; KServe InferenceService over it).
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exportTriton, kserveManifest } from '../../core/serve/export';
import { resolveModel, sanitizeName } from '../../core/serve/source';
import { EXIT_OK, UsageError, type CliCommand } from '../command';
import { parseCommandArgs } from '../options';

export const exportCommand: CliCommand = {
  name: 'export',
  summary: "Export a run's model for Triton Inference Server or KServe",
  usage: `ml-loop export triton --run RUN --out DIR [--name NAME] [--version N] [--project DIR]
ml-loop export kserve --run RUN --out DIR [--storage-uri URI] [--name NAME] [--version N] [--project DIR]

triton: writes a Triton model repository DIR/NAME/config.pbtxt (ONNX Runtime backend, inputs, outputs,
dynamic batching) and DIR/NAME/N/model.onnx; for an image model also DIR/NAME/README.md, how to feed
Triton the image tensor (the preprocessing is in the model's ONNX metadata, key image_preprocessing).
kserve: writes the same repository plus DIR/NAME.inferenceservice.yaml, a KServe InferenceService
(Triton runtime, protocol v2) whose storageUri is where you upload DIR.

  --run RUN             a run id of the project (or a path to an .onnx file)
  --out DIR             output folder
  --name NAME           model name (default: the run's experiment)
  --version N           version folder (default 1)
  --max-batch-size N    Triton max_batch_size (default 64)
  --max-queue-delay-us N  Triton dynamic batching delay (default 100)
  --storage-uri URI     kserve: where DIR will be (default pvc://ml-loop-models)
  --project DIR         project folder (default: current folder)`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      run: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'string' },
      project: { type: 'string' },
      'max-batch-size': { type: 'string' },
      'max-queue-delay-us': { type: 'string' },
      'storage-uri': { type: 'string' },
    });
    const target = positionals[0];
    if (target !== 'triton' && target !== 'kserve')
      throw new UsageError('say what to export for: ml-loop export triton … or ml-loop export kserve …');
    if (!values.run || !values.out) throw new UsageError('--run RUN and --out DIR are required');
    const version = values.version ?? '1';
    if (!/^[1-9]\d*$/.test(version))
      throw new UsageError('--version must be a positive whole number (a Triton version folder)');
    let model;
    try {
      model = resolveModel(values.run, resolve(io.cwd, values.project ?? '.'));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const name = sanitizeName(values.name ?? model.defaultName);
    const out = resolve(io.cwd, values.out);
    const files = await exportTriton({
      modelPath: model.path,
      outDir: out,
      name,
      version,
      runId: model.runId,
      maxBatchSize: values['max-batch-size'] ? Number(values['max-batch-size']) : undefined,
      maxQueueDelayUs: values['max-queue-delay-us'] ? Number(values['max-queue-delay-us']) : undefined,
    });
    if (target === 'kserve') {
      mkdirSync(out, { recursive: true });
      const manifest = join(out, `${name}.inferenceservice.yaml`);
      writeFileSync(manifest, kserveManifest({ name, storageUri: values['storage-uri'] ?? 'pvc://ml-loop-models' }));
      files.push(manifest);
    }
    for (const f of files) io.out(f);
    return EXIT_OK;
  },
};
