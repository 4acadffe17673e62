// HTTP calls of `ml-loop promote` and `ml-loop rollback` to a running server's alias endpoints.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliIO } from '../command';

export async function callServer(
  io: CliIO,
  server: string,
  path: string,
  body: unknown,
  tokenFile?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (tokenFile) headers.Authorization = `Bearer ${readFileSync(resolve(io.cwd, tokenFile), 'utf8').trim()}`;
  const res = await fetch(new URL(path, server.endsWith('/') ? server : server + '/'), {
    method: 'POST',
    headers,
    body: JSON.stringify(body ?? {}),
  });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { error: text };
  }
  return { status: res.status, json };
}
