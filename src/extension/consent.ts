// Consent before netpath creates anything in a cluster: the server refuses to create collector
// pods without it (ConsentRequiredError, with what it would create); the extension shows that in a
// modal dialog and remembers a "yes" per cluster, namespace and image (API server URL + namespace +
// image) in the global state, so later runs there go ahead without asking. A "yes" to an image
// pinned only by tag is not remembered: the tag could later name other content. The dialog's text
// (labels.ts) shows the cluster's names escaped.
import * as vscode from 'vscode';
import type { ConsentDetails } from '../shared/protocol';
import { consentMessage } from './labels';

export const consentStateKey = 'netpath.consentedClusters';
export const agreeLabel = 'Create and Run';

interface Agreed {
  context?: string;
  namespace: string;
  at: string;
}

export function clusterKey(d: Pick<ConsentDetails, 'server' | 'context' | 'namespace' | 'image'>): string {
  return `${d.server ?? `context:${d.context ?? '?'}`}#${d.namespace}#${d.image}`;
}

export class ConsentStore {
  constructor(private readonly memento: vscode.Memento) {}

  private all(): Record<string, Agreed> {
    return this.memento.get<Record<string, Agreed>>(consentStateKey) ?? {};
  }
  has(d: ConsentDetails): boolean {
    return clusterKey(d) in this.all();
  }
  async remember(d: ConsentDetails): Promise<void> {
    await this.memento.update(consentStateKey, { ...this.all(), [clusterKey(d)]: { context: d.context, namespace: d.namespace, at: new Date().toISOString() } });
  }
  async forget(d: ConsentDetails): Promise<void> {
    const all = this.all();
    delete all[clusterKey(d)];
    await this.memento.update(consentStateKey, all);
  }
}

export type Ask = (message: string, options: vscode.MessageOptions, ...items: string[]) => Thenable<string | undefined>;

/** True when the user agreed now or before; asks with a modal dialog otherwise. */
export async function obtainConsent(d: ConsentDetails, store: ConsentStore, ask: Ask = (m, o, ...items) => vscode.window.showWarningMessage(m, o, ...items)): Promise<boolean> {
  const rememberable = d.imagePinned !== false;
  if (rememberable && store.has(d)) return true;
  const { message, detail } = consentMessage(d);
  const answer = await ask(message, { modal: true, detail }, agreeLabel);
  if (answer !== agreeLabel) return false;
  if (rememberable) await store.remember(d);
  return true;
}
