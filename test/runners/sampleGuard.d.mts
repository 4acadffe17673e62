export function snapshotTree(dir: string): Map<string, string>;
export function treeChanges(before: Map<string, string>, after: Map<string, string>): string[];
export function copyOfSample(folder: string, prefix?: string): string;
