// Shared webview infrastructure: one import for a panel's main.ts.
export { connect, type PanelChannel } from './api';
export { onThemeChange, readThemeColors, type ThemeColors } from './theme';
export { dataGrid, registerToolkit, type GridColumn } from './toolkit';
