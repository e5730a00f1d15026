// Extension entry point. Activation only registers things; the diagnosis server starts
// lazily on first use. Commands, views and menus arrive with the features that use them.
import type * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {
  // Nothing to register yet.
}

export function deactivate(): void {}
