// The header bar both webview apps put first: a toolbar landmark named for the app, the app's own
// heading pieces, a status line that a screen reader announces (`role=status`), and the app's
// buttons at the end. One builder so that the link path and the matrix keep the same structure,
// roles and class names (pathview.css / matrixview.css style them per app).

/** The `<header class="toolbar" role="toolbar">` with `heading`, the status line, then `tools`. */
export function toolbar(label: string, heading: readonly HTMLElement[], tools: readonly HTMLElement[]): HTMLElement {
  const bar = document.createElement('header');
  bar.className = 'toolbar';
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', label);
  const status = document.createElement('span');
  status.className = 'status';
  status.setAttribute('role', 'status');
  const box = document.createElement('div');
  box.className = 'tools';
  box.append(...tools);
  bar.append(...heading, status, box);
  return bar;
}

/**
 * Shows the host's `status` message in the toolbar under `root` (a busy one without a message
 * says "Working…") and marks `root` busy meanwhile. Before anything is drawn there is no toolbar:
 * only the mark is set.
 */
export function showStatus(root: HTMLElement, busy: boolean, message?: string): void {
  const status = root.querySelector<HTMLElement>('.toolbar > .status');
  if (status) status.textContent = message ?? (busy ? 'Working…' : '');
  root.classList.toggle('busy', busy);
}
