// Colours for canvases (chart.js, image grids) from the VS Code theme. Canvas pixels cannot use
// CSS variables, so they are read at render time, and charts are redrawn when the theme changes.
import type { ChartPalette } from '../../src/core/charts/style';

/** The chart palette (src/core/charts/style: foreground, muted, grid, series, warning) and what else canvases use. */
export interface ThemeColors extends ChartPalette {
  background: string;
  error: string;
  kind: 'light' | 'dark' | 'high-contrast';
}

const SERIES_VARS = [
  '--vscode-charts-blue',
  '--vscode-charts-orange',
  '--vscode-charts-green',
  '--vscode-charts-purple',
  '--vscode-charts-yellow',
  '--vscode-charts-red',
];
const SERIES_FALLBACK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#cca700', '#f14c4c'];

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  return style.getPropertyValue(name).trim() || fallback;
}

export function readThemeColors(el: Element = document.body): ThemeColors {
  const style = getComputedStyle(el);
  const cls = document.body.classList;
  const kind =
    cls.contains('vscode-high-contrast') || cls.contains('vscode-high-contrast-light')
      ? 'high-contrast'
      : cls.contains('vscode-light')
        ? 'light'
        : 'dark';
  return {
    foreground: cssVar(style, '--vscode-foreground', kind === 'light' ? '#333333' : '#cccccc'),
    muted: cssVar(style, '--vscode-descriptionForeground', '#999999'),
    grid: cssVar(style, '--vscode-editorWidget-border', kind === 'light' ? '#c8c8c8' : '#454545'),
    background: cssVar(style, '--vscode-editor-background', kind === 'light' ? '#ffffff' : '#1e1e1e'),
    series: SERIES_VARS.map((v, i) => cssVar(style, v, SERIES_FALLBACK[i])),
    error: cssVar(style, '--vscode-errorForeground', '#f14c4c'),
    warning: cssVar(style, '--vscode-editorWarning-foreground', '#cca700'),
    kind,
  };
}

/** Calls `onChange` whenever VS Code switches theme (it rewrites the body's class and style). */
export function onThemeChange(onChange: () => void): () => void {
  let last = document.body.className + document.body.getAttribute('data-vscode-theme-id');
  const observer = new MutationObserver(() => {
    const now = document.body.className + document.body.getAttribute('data-vscode-theme-id');
    if (now === last) return;
    last = now;
    onChange();
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-id'] });
  return () => observer.disconnect();
}
