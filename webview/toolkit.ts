// Every use of @vscode/webview-ui-toolkit lives here. The toolkit is deprecated upstream; to move
// to @vscode-elements/elements, change this module only (register its elements and map these
// helpers to `vscode-button` and `vscode-divider` of that library). Badge and tag are plain spans:
// the toolkit's vscode-badge/vscode-tag templates bind a `style` attribute, which the CSP refuses.
// The toolkit (FAST) probes :focus-visible support with a <style> element carrying the nonce from
// <meta property="csp-nonce">; the host page provides that meta and allows the nonce in style-src.
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeDivider } from '@vscode/webview-ui-toolkit';
import { shown } from '../src/shared/display';

let registered = false;

export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeDivider());
}

export interface ButtonOptions {
  /** `primary` (default), `secondary` or `icon` (label becomes the aria-label and title). */
  appearance?: 'primary' | 'secondary' | 'icon';
  /** An <svg> to show before the label (or as the whole content of an icon button). */
  icon?: SVGElement;
  title?: string;
}

export function button(label: string, onClick: () => void, opts: ButtonOptions = {}): HTMLElement {
  const b = document.createElement('vscode-button');
  b.setAttribute('appearance', opts.appearance ?? 'primary');
  if (opts.appearance === 'icon') {
    b.setAttribute('aria-label', label);
    b.title = opts.title ?? label;
    if (opts.icon) b.append(opts.icon);
  } else {
    if (opts.icon) {
      opts.icon.setAttribute('slot', 'start');
      b.append(opts.icon);
    }
    b.append(label);
    if (opts.title) b.title = opts.title;
  }
  b.addEventListener('click', onClick);
  return b;
}

/**
 * A count or status pill. Not the toolkit's vscode-badge: its template sets a `style` attribute,
 * which the webview CSP (no 'unsafe-inline') refuses; this one is styled by pathview.css.
 */
export function badge(text: string, label?: string): HTMLElement {
  const b = document.createElement('span');
  b.className = 'np-badge';
  b.textContent = shown(text);
  if (label) b.setAttribute('aria-label', label);
  return b;
}

/** A short uppercase label (node type). Not vscode-tag: it is the same FAST badge template. */
export function tag(text: string): HTMLElement {
  const t = document.createElement('span');
  t.className = 'np-tag';
  t.textContent = shown(text);
  return t;
}

export function divider(): HTMLElement {
  const d = document.createElement('vscode-divider');
  d.setAttribute('role', 'separator');
  return d;
}
