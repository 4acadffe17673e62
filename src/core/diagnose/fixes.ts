// Recommendations turned into parameter changes of an experiment (the quick fixes of mlloop.json):
// which parameters a recommendation touches for each built-in model, their new values, and the
// text edits that write them into the file without disturbing its comments or layout.

import { applyEdits, findNodeAtLocation, modify, parseTree, type Edit } from 'jsonc-parser';
import { wholeDiff } from '../spec/jsonLocation';
import { defaultParams } from '../spec/schema';
import type { BuiltinModel } from '../spec/types';
import type { RecommendationId } from './biasVariance';

export interface ParamFix {
  recommendation: RecommendationId;
  /** e.g. "Raise l2 to 0.001". */
  title: string;
  /** Parameter → new value (written into experiments.<name>.params). */
  set: Record<string, unknown>;
}

const num = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);
const round = (v: number) => Number(v.toPrecision(6));
const raise = (v: number) => (v > 0 ? round(v * 10) : 1e-3);
const lower = (v: number) => round(v / 10);
const patienceOn = (v: unknown) => v === true || (typeof v === 'number' && v > 0);

/** The fixes a model supports for each recommendation, from the experiment's current (resolved) parameters. */
export function paramFixes(
  model: BuiltinModel,
  given: Record<string, unknown> | undefined,
  recommendations: RecommendationId[],
): ParamFix[] {
  const p = { ...(defaultParams(model) as unknown as Record<string, unknown>), ...(given ?? {}) };
  const out: ParamFix[] = [];
  const add = (recommendation: RecommendationId, title: string, set: Record<string, unknown>) =>
    out.push({ recommendation, title, set });
  for (const id of recommendations) {
    switch (id) {
      case 'moreRegularization': {
        const l2 = raise(num(p.l2, 0));
        add(id, `Raise l2 to ${l2}`, { l2 });
        if (model === 'mlp' && num(p.dropout, 0) < 0.2) add(id, 'Add dropout 0.2', { dropout: 0.2 });
        if (model === 'cnn' && num(p.dropout, 0) < 0.5) {
          const dropout = round(Math.min(0.5, num(p.dropout, 0) + 0.25));
          add(id, `Raise dropout to ${dropout}`, { dropout });
        }
        if (model === 'gbdt') {
          const leaf = Math.max(1, num(p.minSamplesLeaf, 20)) * 2;
          add(id, `Raise minSamplesLeaf to ${leaf}`, { minSamplesLeaf: leaf });
        }
        break;
      }
      case 'lessRegularization': {
        const l2 = num(p.l2, 0);
        if (l2 > 0) add(id, `Lower l2 to ${lower(l2)}`, { l2: lower(l2) });
        if ((model === 'mlp' || model === 'cnn') && num(p.dropout, 0) > 0) add(id, 'Remove dropout', { dropout: 0 });
        break;
      }
      case 'earlyStopping':
        if ((model === 'mlp' || model === 'gbdt' || model === 'cnn') && !patienceOn(p.earlyStopping))
          add(id, 'Add early stopping (patience 10)', { earlyStopping: 10 });
        break;
      case 'biggerModel':
        if (model === 'mlp') {
          const hidden = (Array.isArray(p.hidden) ? (p.hidden as number[]) : [64]).map((u) => Math.min(4096, u * 2));
          add(id, `Enlarge hidden to ${JSON.stringify(hidden)}`, { hidden });
        } else if (model === 'cnn') {
          const channels = (Array.isArray(p.channels) ? (p.channels as number[]) : [32, 64]).map((c) =>
            Math.min(1024, c * 2),
          );
          add(id, `Widen channels to ${JSON.stringify(channels)}`, { channels });
        } else if (model === 'gbdt') {
          const leaves = Math.min(4096, num(p.maxLeaves, 31) * 2);
          add(id, `Raise maxLeaves to ${leaves}`, { maxLeaves: leaves });
        }
        break;
      case 'trainLonger':
        if (model === 'mlp' || model === 'cnn')
          add(id, `Train for ${num(p.epochs, 100) * 2} epochs`, { epochs: num(p.epochs, 100) * 2 });
        else if (model === 'gbdt')
          add(id, `Raise iterations to ${num(p.iterations, 100) * 2}`, { iterations: num(p.iterations, 100) * 2 });
        else if (model === 'logistic')
          add(id, `Raise maxIter to ${num(p.maxIter, 100) * 2}`, { maxIter: num(p.maxIter, 100) * 2 });
        break;
      default:
        // More data, better or fewer features, augmentation, a bigger dev set: not a parameter.
        break;
    }
  }
  return out;
}

/** Text edits that set each parameter of the fix in experiments.<experiment>.params (created if absent).
 *  An experiment written on one line stays on one line; others get jsonc-parser's formatting. */
export function fixEdits(text: string, experiment: string, fix: ParamFix, insertSpaces = true, tabSize = 2): Edit[] {
  const root = parseTree(text, [], { allowTrailingComma: true });
  if (!root || !findNodeAtLocation(root, ['experiments', experiment]))
    throw new Error(`No experiment "${experiment}" in the project file`);
  let current = text;
  // Each change is relative to the text after the previous one: apply in turn, then diff once.
  for (const [param, value] of Object.entries(fix.set)) {
    current = applyEdits(
      current,
      inlineInsert(current, experiment, param, value) ??
        modify(current, ['experiments', experiment, 'params', param], value, {
          formattingOptions: { insertSpaces, tabSize },
        }),
    );
  }
  return current === text ? [] : [wholeDiff(text, current)];
}

/** A new property appended inside a one-line object (params, or the experiment when it has no params). */
function inlineInsert(text: string, experiment: string, param: string, value: unknown): Edit[] | undefined {
  const root = parseTree(text, [], { allowTrailingComma: true })!;
  if (findNodeAtLocation(root, ['experiments', experiment, 'params', param])) return undefined;
  const params = findNodeAtLocation(root, ['experiments', experiment, 'params']);
  const target = params ?? findNodeAtLocation(root, ['experiments', experiment])!;
  if (target.type !== 'object' || text.slice(target.offset, target.offset + target.length).includes('\n'))
    return undefined;
  const property = params
    ? `"${param}": ${JSON.stringify(value)}`
    : `"params": { "${param}": ${JSON.stringify(value)} }`;
  const last = target.children?.at(-1);
  if (!last) return [{ offset: target.offset + 1, length: 0, content: ` ${property} ` }];
  return [{ offset: last.offset + last.length, length: 0, content: `, ${property}` }];
}
