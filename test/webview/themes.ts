// The VS Code theme variables a webview sees, for the three theme kinds the tests render in.
// VS Code sets `--vscode-<color.id with dots as dashes>` on the webview's <html> and a
// `vscode-<kind>` class plus `data-vscode-theme-kind` on <body>. Values follow the default
// themes (Light Modern, Dark Modern, Dark High Contrast); only the tokens a webview plausibly
// uses are listed — add tokens here as the app starts using them.
export type ThemeKind = 'light' | 'dark' | 'high-contrast';

export const themeKinds: ThemeKind[] = ['light', 'dark', 'high-contrast'];

const font = {
  'font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
  'font-weight': 'normal',
  'font-size': '13px',
  'editor-font-family': '"Droid Sans Mono", "monospace", monospace',
  'editor-font-weight': 'normal',
  'editor-font-size': '14px',
};

const colors: Record<ThemeKind, Record<string, string>> = {
  light: {
    foreground: '#3b3b3b',
    descriptionForeground: '#3b3b3b',
    errorForeground: '#f85149',
    focusBorder: '#005fb8',
    'icon.foreground': '#3b3b3b',
    'editor.background': '#ffffff',
    'editor.foreground': '#3b3b3b',
    'editorWidget.background': '#f8f8f8',
    'editorError.foreground': '#e51400',
    'editorWarning.foreground': '#bf8803',
    'editorInfo.foreground': '#1a85ff',
    'sideBar.background': '#f8f8f8',
    'panel.border': '#e5e5e5',
    'widget.border': '#e5e5e5',
    'button.background': '#005fb8',
    'button.foreground': '#ffffff',
    'button.hoverBackground': '#0258a8',
    'badge.background': '#cccccc',
    'badge.foreground': '#3b3b3b',
    'textLink.foreground': '#005fb8',
    'input.background': '#ffffff',
    'input.foreground': '#3b3b3b',
    'list.activeSelectionBackground': '#e8e8e8',
    'list.hoverBackground': '#f2f2f2',
    'charts.red': '#e51400',
    'charts.yellow': '#bf8803',
    'charts.blue': '#1a85ff',
    'charts.green': '#388a34',
    'charts.foreground': '#3b3b3b',
    'charts.lines': '#3b3b3b80',
  },
  dark: {
    foreground: '#cccccc',
    descriptionForeground: '#9d9d9d',
    errorForeground: '#f85149',
    focusBorder: '#0078d4',
    'icon.foreground': '#cccccc',
    'editor.background': '#1f1f1f',
    'editor.foreground': '#cccccc',
    'editorWidget.background': '#202020',
    'editorError.foreground': '#f14c4c',
    'editorWarning.foreground': '#cca700',
    'editorInfo.foreground': '#3794ff',
    'sideBar.background': '#181818',
    'panel.border': '#2b2b2b',
    'widget.border': '#313131',
    'button.background': '#0078d4',
    'button.foreground': '#ffffff',
    'button.hoverBackground': '#026ec1',
    'badge.background': '#616161',
    'badge.foreground': '#f8f8f8',
    'textLink.foreground': '#4daafc',
    'input.background': '#313131',
    'input.foreground': '#cccccc',
    'list.activeSelectionBackground': '#04395e',
    'list.hoverBackground': '#2a2d2e',
    'charts.red': '#f14c4c',
    'charts.yellow': '#cca700',
    'charts.blue': '#3794ff',
    'charts.green': '#89d185',
    'charts.foreground': '#cccccc',
    'charts.lines': '#cccccc80',
  },
  'high-contrast': {
    foreground: '#ffffff',
    descriptionForeground: '#ffffffb3',
    errorForeground: '#f48771',
    focusBorder: '#f38518',
    contrastBorder: '#6fc3df',
    contrastActiveBorder: '#f38518',
    'icon.foreground': '#ffffff',
    'editor.background': '#000000',
    'editor.foreground': '#ffffff',
    'editorWidget.background': '#0c141f',
    'editorError.foreground': '#f48771',
    'editorError.border': '#e47777',
    'editorWarning.foreground': '#ffd370',
    'editorWarning.border': '#ffcc00',
    'editorInfo.foreground': '#3794ff',
    'sideBar.background': '#000000',
    'panel.border': '#6fc3df',
    'widget.border': '#6fc3df',
    'button.background': '#000000',
    'button.foreground': '#ffffff',
    'button.border': '#6fc3df',
    'badge.background': '#000000',
    'badge.foreground': '#ffffff',
    'textLink.foreground': '#21a6ff',
    'input.background': '#000000',
    'input.foreground': '#ffffff',
    'input.border': '#6fc3df',
    'list.activeSelectionBackground': '#000000',
    'list.hoverBackground': '#000000',
    'charts.red': '#f48771',
    'charts.yellow': '#ffd370',
    'charts.blue': '#3794ff',
    'charts.green': '#89d185',
    'charts.foreground': '#ffffff',
    'charts.lines': '#ffffff80',
  },
};

/** The CSS custom properties VS Code would set on the webview's <html> for this theme kind. */
export function themeVariables(kind: ThemeKind): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(font)) vars[`--vscode-${k}`] = v;
  for (const [k, v] of Object.entries(colors[kind])) vars[`--vscode-${k.replace(/\./g, '-')}`] = v;
  return vars;
}

/** The body class and data-vscode-theme-kind value VS Code uses for this kind. */
export function themeBodyClass(kind: ThemeKind): string {
  return `vscode-${kind}`;
}

/** A theme colour (`#rrggbb`, alpha ignored) as getComputedStyle reports it: `rgb(r, g, b)`. */
export function hexToRgb(hex: string): string {
  const n = parseInt(hex.slice(1, 7), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}
