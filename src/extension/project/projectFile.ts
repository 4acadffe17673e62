// Reading what the sidebar needs from mlloop.json: experiment names, kinds and where each is
// written. jsonc-parser only (small, tolerant): full validation with the schema is the job of
// src/core/spec, loaded when a command needs it, not at activation.
import { findNodeAtLocation, parseTree, type Node } from 'jsonc-parser';

export interface ExperimentEntry {
  name: string;
  /** Built-in model kind, or 'script' for a command experiment, or '?' when unreadable. */
  kind: string;
  /** Offset and length of the experiment's key in the file. */
  keyOffset: number;
  keyLength: number;
  params?: Record<string, unknown>;
  /** The cluster it trains on (`cluster`), if any. */
  cluster?: string;
}

export interface ProjectOutline {
  name?: string;
  task?: string;
  /** The project's metric (accuracy, rmse, …): the key metric shown for runs. */
  metric?: string;
  /** The error a good model should reach (human level, a previous system). */
  baseline?: { error: number; source?: string };
  experiments: ExperimentEntry[];
  /** Names of the clusters experiments can train on (`clusters`). */
  clusters?: string[];
  /** The examples are image files (`data.images` or `data.imageColumn`). */
  images?: boolean;
}

function valueOf(node: Node | undefined): unknown {
  if (!node) return undefined;
  if (node.type === 'object') {
    const out: Record<string, unknown> = {};
    for (const p of node.children ?? []) {
      const [k, v] = p.children ?? [];
      if (k && typeof k.value === 'string') out[k.value] = valueOf(v);
    }
    return out;
  }
  if (node.type === 'array') return (node.children ?? []).map(valueOf);
  return node.value;
}

export function readProjectOutline(text: string): ProjectOutline {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!root) return { experiments: [] };
  const str = (path: string[]) => {
    const v = findNodeAtLocation(root, path)?.value;
    return typeof v === 'string' ? v : undefined;
  };
  const experimentsNode = findNodeAtLocation(root, ['experiments']);
  const experiments: ExperimentEntry[] = [];
  if (experimentsNode?.type === 'object') {
    for (const prop of experimentsNode.children ?? []) {
      const [key, value] = prop.children ?? [];
      if (!key || typeof key.value !== 'string') continue;
      const body = valueOf(value) as Record<string, unknown> | undefined;
      const kind = typeof body?.model === 'string' ? body.model : Array.isArray(body?.command) ? 'script' : '?';
      const params =
        body && typeof body.params === 'object' && body.params !== null
          ? (body.params as Record<string, unknown>)
          : undefined;
      experiments.push({
        name: key.value,
        kind,
        keyOffset: key.offset,
        keyLength: key.length,
        params,
        ...(typeof body?.cluster === 'string' ? { cluster: body.cluster } : {}),
      });
    }
  }
  const clustersNode = findNodeAtLocation(root, ['clusters']);
  const clusters =
    clustersNode?.type === 'object'
      ? (clustersNode.children ?? [])
          .map((p) => p.children?.[0]?.value)
          .filter((k): k is string => typeof k === 'string')
      : [];
  const baseline = valueOf(findNodeAtLocation(root, ['baseline'])) as { error?: unknown; source?: unknown } | undefined;
  return {
    name: str(['name']),
    task: str(['task']),
    metric: str(['metric']),
    ...(typeof baseline?.error === 'number'
      ? {
          baseline: {
            error: baseline.error,
            ...(typeof baseline.source === 'string' ? { source: baseline.source } : {}),
          },
        }
      : {}),
    experiments,
    ...(clusters.length ? { clusters } : {}),
    ...(findNodeAtLocation(root, ['data', 'images']) || findNodeAtLocation(root, ['data', 'imageColumn'])
      ? { images: true }
      : {}),
  };
}
