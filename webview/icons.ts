// A handful of 16×16 line icons drawn inline (no icon font: nothing to load, nothing for the CSP
// to allow). Shapes follow the codicons of the same meaning: package (pod), server (node), globe
// (external), cloud (infra), layers (grouped backends), circle (anything else).
import { severityKind, type Severity, type SeverityKind } from '../src/shared/severity';

const paths: Record<string, string> = {
  pod: 'M8 1.5l5.5 3v7L8 14.5l-5.5-3v-7z M2.5 4.5L8 7.5l5.5-3 M8 7.5v7',
  node: 'M2.5 2.5h11v4.5h-11z M2.5 9h11v4.5h-11z M5 4.75h.01 M5 11.25h.01 M8 4.75h3 M8 11.25h3',
  external: 'M8 1.5a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13z M1.5 8h13 M8 1.5c-2.2 2-2.2 11 0 13 M8 1.5c2.2 2 2.2 11 0 13',
  infra: 'M4.5 12.5h7.25a2.75 2.75 0 0 0 .4-5.47A4 4 0 0 0 4.4 6.3 3.1 3.1 0 0 0 4.5 12.5z',
  generic: 'M8 2.5a5.5 5.5 0 1 0 0 11a5.5 5.5 0 1 0 0-11z',
  group: 'M8 1.5l6 3-6 3-6-3z M2 8l6 3 6-3 M2 11.5l6 3 6-3',
  error: 'M8 1.5a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13z M8 4.5v4.5 M8 11v.5',
  warning: 'M8 1.8l6.7 12H1.3z M8 6v4 M8 11.8v.4',
  info: 'M8 1.5a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13z M8 7v4.5 M8 4.6v.4',
  zoomIn: 'M7 2a5 5 0 1 0 0 10a5 5 0 1 0 0-10z M10.6 10.6L14.5 14.5 M5 7h4 M7 5v4',
  zoomOut: 'M7 2a5 5 0 1 0 0 10a5 5 0 1 0 0-10z M10.6 10.6L14.5 14.5 M5 7h4',
  fit: 'M2 5.5V2h3.5 M10.5 2H14v3.5 M14 10.5V14h-3.5 M5.5 14H2v-3.5 M5.5 5.5h5v5h-5z',
  refresh: 'M13.5 8A5.5 5.5 0 1 1 11.9 4.1 M12.5 1.5v3h-3',
  expand: 'M2.5 2.5h11v11h-11z M8 5v6 M5 8h6',
  collapse: 'M2.5 2.5h11v11h-11z M5 8h6',
};

export type IconName = keyof typeof paths;

export function iconPath(name: string): string {
  return paths[name] ?? paths.generic;
}

const ns = 'http://www.w3.org/2000/svg';

/** A standalone <svg> icon (for HTML: buttons, the details panel). */
export function icon(name: string, cls = 'icon'): SVGSVGElement {
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', cls);
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', iconPath(name));
  svg.append(p);
  return svg;
}

/** The icon of a severity (src/shared/severity.ts decides which); none: the info icon. */
export function severityIcon(level: Severity | null): SeverityKind {
  return level ? severityKind(level) : 'info';
}
