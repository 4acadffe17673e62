// What `--model PATH_OR_RUN_ID` names: an .onnx file anywhere, or a run of the project's store
// (`.mlloop/runs/<runId>/model.onnx`), with the model name a deployment gets by default: the
// project's name (mlloop.json "name"), so that every run of a project is a version of one model and
// the README's `/v2/models/digits` is what the editor and the CLI serve.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import { runsDir } from '../spec/layout';

export interface ResolvedModel {
  path: string;
  runId?: string;
  /** Default deployment name (deploymentName): the project's name for a run, else the file's name. */
  defaultName: string;
}

export function resolveModel(spec: string, projectDir: string): ResolvedModel {
  const asPath = resolve(projectDir, spec);
  if (existsSync(asPath) && statSync(asPath).isFile()) {
    const runJson = join(dirname(asPath), 'run.json');
    const run = existsSync(runJson) ? readRunSummary(runJson) : undefined;
    const stem = basename(asPath).replace(/\.onnx$/i, '');
    // A run's model sits in <project>/.mlloop/runs/<runId>/.
    const name = run?.experiment ? deploymentName(resolve(dirname(asPath), '..', '..', '..'), run.experiment) : undefined;
    return { path: asPath, runId: run?.runId, defaultName: name ?? sanitizeName(stem === 'model' ? basename(dirname(asPath)) : stem) };
  }
  if (/^[\w.-]+$/.test(spec)) {
    const dir = join(runsDir(projectDir), spec);
    const model = join(dir, 'model.onnx');
    if (existsSync(model)) {
      const run = readRunSummary(join(dir, 'run.json'));
      return { path: model, runId: spec, defaultName: deploymentName(projectDir, run?.experiment ?? spec) };
    }
    if (existsSync(dir)) throw new Error(`run ${spec} has no model.onnx (did it complete?)`);
  }
  throw new Error(`"${spec}" is neither an .onnx file nor a run of ${projectDir} (looked in ${runsDir(projectDir)})`);
}

function readRunSummary(file: string): { runId?: string; experiment?: string } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { runId?: string; experiment?: string };
  } catch {
    return undefined;
  }
}

/** The one naming rule of a deployed run (README, CLI and editor): the project's name in mlloop.json, else the run's experiment. */
export function deploymentName(projectDir: string, experiment: string): string {
  let name: unknown;
  try {
    name = (parseJsonc(readFileSync(join(projectDir, 'mlloop.json'), 'utf8')) as { name?: unknown } | undefined)?.name;
  } catch {
    name = undefined;
  }
  return sanitizeName(typeof name === 'string' && name.trim() ? name : experiment);
}

/** Model names become URL segments and folder names: letters, digits, '.', '_' and '-'. */
export function sanitizeName(s: string): string {
  const n = s.replace(/[^\w.-]+/g, '-').replace(/^[.-]+/, '');
  return n || 'model';
}
