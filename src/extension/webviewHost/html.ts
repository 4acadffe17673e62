// The one place webview HTML is written. Pure (no editor import) so its CSP is unit-tested.
import { randomBytes } from 'node:crypto';
import { RESTORE_KEY_META } from '../../protocol/common';

export interface WebviewHtmlParts {
  title: string;
  /** The webview's `cspSource` (the origin its resource URIs are served from). */
  cspSource: string;
  /** URI of the panel's bundle (dist/webview/<panel>.js) as seen by the webview. */
  scriptUri: string;
  /** URIs of style sheets from media/. */
  styleUris: string[];
  nonce: string;
  /** What the panel shows (JSON), kept by the webview in its VS Code state so that the panel can be restored after a reload. */
  restoreKey?: string;
}

/** 128 bits from the OS CSPRNG, base64: a fresh nonce per HTML document. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    `default-src 'none'`,
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource}`,
    `font-src ${cspSource}`,
  ].join('; ');
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderWebviewHtml(p: WebviewHtmlParts): string {
  const styles = p.styleUris.map((u) => `<link rel="stylesheet" href="${escapeAttr(u)}" nonce="${p.nonce}">`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(p.cspSource, p.nonce)}">
    <!-- The toolkit (FAST) probes :focus-visible with a <style> element: it carries this nonce, which the CSP allows. -->
    <meta property="csp-nonce" content="${p.nonce}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">${p.restoreKey !== undefined ? `\n    <meta name="${RESTORE_KEY_META}" content="${escapeAttr(p.restoreKey)}">` : ''}
    <title>${escapeAttr(p.title)}</title>
    ${styles}
  </head>
  <body>
    <main id="root"></main>
    <script nonce="${p.nonce}" src="${escapeAttr(p.scriptUri)}"></script>
  </body>
</html>`;
}
