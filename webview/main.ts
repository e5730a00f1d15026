// The webview bundle (browser, dist/webview.js): one script for the extension's webviews, each page
// saying which app it is with `data-view` on <body> (pathPanelHtml.ts): the link path (default,
// path-app.ts) or the connectivity matrix (matrix-app.ts). Each app talks to its host only through
// its typed contract (src/shared/webview-protocol.ts, src/shared/matrix-protocol.ts).
import { startMatrixApp } from './matrix-app';
import { startPathApp } from './path-app';
import type { VsCodeApi } from './vscode-api';

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const view = document.body.dataset.view === 'matrix' ? 'matrix' : 'path';

// The stylesheet sits in media/ next to dist/: resolve it from this script's own URL, which is
// a webview resource URI in VS Code (allowed by the CSP's style-src cspSource).
const script = document.currentScript as HTMLScriptElement | null;
if (script?.src) {
  const css = document.createElement('link');
  css.rel = 'stylesheet';
  css.href = new URL(`../media/${view === 'matrix' ? 'matrixview' : 'pathview'}.css`, script.src).href;
  document.head.append(css);
}

const root = document.getElementById('root') ?? document.body;
if (view === 'matrix') startMatrixApp(vscode, root);
else startPathApp(vscode, root);
