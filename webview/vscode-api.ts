// What a webview gets from VS Code's `acquireVsCodeApi()` (once per page).
export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
