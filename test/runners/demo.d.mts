// Types of demo.mjs for the TypeScript e2e specs.
import type { CodeServer } from './code-server.mjs';
export const DEFAULT_FOLDER: string;
export function prepare(o?: { build?: boolean }): void;
export function startDemo(o?: {
  folder?: string;
  port?: number;
  settings?: object;
  workspaceTrust?: boolean;
}): Promise<CodeServer & { openUrl: string }>;
