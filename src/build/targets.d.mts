// Types of targets.mjs for the TypeScript package tests.
export const TARGETS: Record<string, { budgetMb: number }>;
export interface NativePackage {
  paths(target: string, version: string): string[];
  binaries(target: string): string[];
  dependencies?: Record<string, string[]>;
  platform?(target: string): Record<string, string[]>;
  version?: Record<string, string>;
}
export const NATIVE_PACKAGES: Record<string, NativePackage>;
export function isShippedFile(relativePath: string): boolean;
export const EXTERNAL_MODULES: string[];
export function vsixPath(target: string): string;
