// The compiled JSON Schema of mlloop.json (compiled once per process) and parameter defaults.
// The schema file is the single source of truth: validation, defaults and editor IntelliSense all read it.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import projectSchema from './mlloop.schema.json';
import type { BuiltinModel, ExperimentSpec, ModelParams } from './types';
import { isScriptExperiment } from './types';

export { projectSchema };

/** Editor-only annotation keywords VS Code understands; Ajv must accept them in strict mode. */
const EDITOR_KEYWORDS = ['markdownDescription', 'enumDescriptions', 'defaultSnippets'];

function newAjv(useDefaults: boolean): Ajv {
  // Defaults under oneOf/if branches (data.split's) are editor hints Ajv cannot apply: don't fail on them
  // in the defaults instance; the validating instance stays fully strict.
  const ajv = new Ajv({
    allErrors: true,
    useDefaults,
    strictSchema: !useDefaults,
    strictTypes: false,
    allowUnionTypes: true,
  });
  ajv.addVocabulary(EDITOR_KEYWORDS);
  ajv.addSchema(projectSchema, 'mlloop');
  return ajv;
}

let projectValidator: ValidateFunction | undefined;
/** Validates a whole mlloop.json value; errors in validateProjectValue.errors (Ajv's format). */
export function validateProjectValue(value: unknown): ErrorObject[] {
  projectValidator ??= newAjv(false).getSchema('mlloop')!;
  return projectValidator(value) ? [] : [...(projectValidator.errors ?? [])];
}

let defaultsAjv: Ajv | undefined;
const paramValidators = new Map<BuiltinModel, ValidateFunction>();
function paramValidator(model: BuiltinModel): ValidateFunction {
  let v = paramValidators.get(model);
  if (!v) {
    defaultsAjv ??= newAjv(true);
    v = defaultsAjv.compile({ $ref: `mlloop#/definitions/${model}Params` });
    paramValidators.set(model, v);
  }
  return v;
}

export class InvalidParamsError extends Error {
  constructor(
    message: string,
    readonly errors: ErrorObject[],
  ) {
    super(message);
    this.name = 'InvalidParamsError';
  }
}

/**
 * The experiment's parameters with every schema default filled in, so trainers get complete params.
 * Built-in models: validated against the model's params schema (throws InvalidParamsError when invalid).
 * Script experiments: their params as given (a script's parameters have no schema).
 */
export function resolveParams<M extends BuiltinModel>(experiment: {
  model: M;
  params?: Record<string, unknown>;
}): ModelParams[M];
export function resolveParams(experiment: ExperimentSpec): Record<string, unknown>;
export function resolveParams(experiment: ExperimentSpec): Record<string, unknown> {
  const params = structuredClone(experiment.params ?? {});
  if (isScriptExperiment(experiment)) return params;
  const validate = paramValidator(experiment.model);
  if (!validate(params)) {
    const errors = validate.errors ?? [];
    const detail = errors.map((e) => `${e.instancePath || 'params'} ${e.message}`).join('; ');
    throw new InvalidParamsError(`Invalid ${experiment.model} params: ${detail}`, errors);
  }
  return params;
}

/** The default parameters of a built-in model (what `resolveParams({ model })` gives). */
export function defaultParams<M extends BuiltinModel>(model: M): ModelParams[M] {
  return resolveParams({ model, params: {} });
}
