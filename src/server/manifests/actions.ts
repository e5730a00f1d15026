// Code actions on manifest findings: one quick fix per finding whose fix is certain, computed on
// the document's current text and returned as a WorkspaceEdit whose change annotation asks the
// editor to show it before applying (VS Code opens its refactor preview).
import type { CodeAction, CodeActionParams, Diagnostic } from 'vscode-languageserver/node';
import type { ManifestDiagnosticData } from './findings';
import { fixEdit, fixTitle } from './fixes';

const annotation = 'netpath.fix';

export function isManifestData(d: unknown): d is ManifestDiagnosticData {
  const o = d as ManifestDiagnosticData | undefined;
  return !!o && typeof o === 'object' && !!o.cause && typeof o.cause === 'object' && !!o.target && typeof o.target === 'object'
    && Array.isArray(o.target.field) && typeof o.target.kind === 'string' && typeof o.target.name === 'string' && typeof o.target.document === 'number';
}

export function codeActions(p: CodeActionParams, doc: { text: string; version: number | null } | undefined): CodeAction[] {
  if (!doc) return [];
  const out: CodeAction[] = [];
  for (const d of p.context.diagnostics as Diagnostic[]) {
    if (d.source !== 'netpath' || !isManifestData(d.data) || !d.data.cause.remedy) continue;
    const { cause, target } = d.data;
    const edit = fixEdit(doc.text, target, cause.remedy!);
    if (!edit) continue;
    const title = fixTitle(cause.remedy!, target);
    out.push({
      title,
      kind: 'quickfix',
      diagnostics: [d],
      isPreferred: true,
      edit: {
        documentChanges: [{ textDocument: { uri: p.textDocument.uri, version: doc.version }, edits: [{ ...edit, annotationId: annotation }] }],
        changeAnnotations: { [annotation]: { label: title, needsConfirmation: true, description: 'netpath quick fix' } },
      },
    });
  }
  return out;
}
