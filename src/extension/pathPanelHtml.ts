// The link-path webview's HTML and Content Security Policy, free of `vscode` so the browser
// harness (test/webview/harness.ts) serves the very same policy the extension uses.
//
// Policy: nothing by default; scripts only with the per-load nonce; styles, images and fonts only
// from the webview's resource origin (cspSource), plus the nonce for styles: the webview UI
// toolkit (FAST) probes :focus-visible support with one <style> element that it tags with the
// nonce from <meta property="csp-nonce">. No 'unsafe-inline', no 'unsafe-eval', no remote origin.
import { randomBytes } from 'node:crypto';

export function newNonce(): string {
  return randomBytes(18).toString('base64');
}

export function webviewCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/**
 * The page: the app script (dist/webview.js) loads its stylesheet (media/pathview.css or
 * matrixview.css) itself; `view` says which app the page is (default the link path).
 */
export function pathPanelHtml(o: { cspSource: string; nonce: string; scriptUri: string; title?: string; view?: 'path' | 'matrix' }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(webviewCsp(o.cspSource, o.nonce))}">
<meta property="csp-nonce" content="${attr(o.nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${attr(o.title ?? 'Link Path')}</title>
</head>
<body${o.view === 'matrix' ? ' data-view="matrix"' : ''}>
<div id="root"></div>
<script nonce="${attr(o.nonce)}" src="${attr(o.scriptUri)}"></script>
</body>
</html>`;
}
