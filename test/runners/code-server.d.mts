// Types of code-server.mjs for the TypeScript e2e specs.
export const CODE_SERVER_VERSION: string;
export const root: string;
export const cacheDir: string;
export function ensureCodeServer(): string;
export function freePort(): Promise<number>;
export interface CodeServer {
  url: string;
  port: number;
  pid: number;
  userDataDir: string;
  extensionsDir: string;
  workbenchUrl(o?: { folder?: string; devPath?: string; testsPath?: string }): string;
  stop(): Promise<void>;
}
export function startCodeServer(o: {
  folder: string;
  port?: number;
  extensionsDir?: string;
  settings?: object;
  log?: string;
  workspaceTrust?: boolean;
}): Promise<CodeServer>;
export function installVsix(vsix: string, extensionsDir: string): string;
