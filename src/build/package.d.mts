// Types of package.mjs for the TypeScript package tests.
export function fetchFromRegistry(name: string, version: string): string;
export function packageTarget(target: string, options?: { rewriteRelativeLinks?: boolean }): Promise<string>;
