// The only module that imports @vscode/webview-ui-toolkit (archived upstream): moving to another
// component library later changes this file alone. Panels use the registered custom elements
// (<vscode-button>, <vscode-data-grid>, …) by tag name.
import {
  provideVSCodeDesignSystem,
  vsCodeBadge,
  vsCodeButton,
  vsCodeDataGrid,
  vsCodeDataGridCell,
  vsCodeDataGridRow,
  vsCodeDivider,
  vsCodeProgressRing,
  vsCodeTag,
} from '@vscode/webview-ui-toolkit';

let registered = false;

export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeBadge(),
    vsCodeButton(),
    vsCodeDataGrid(),
    vsCodeDataGridCell(),
    vsCodeDataGridRow(),
    vsCodeDivider(),
    vsCodeProgressRing(),
    vsCodeTag(),
  );
}

/** Column definition of <vscode-data-grid> (its `columnDefinitions` property). */
export interface GridColumn {
  columnDataKey: string;
  title: string;
  gridColumn?: string;
}

/** Fills a <vscode-data-grid> with rows of plain values. */
export function dataGrid(
  columns: GridColumn[],
  rows: Record<string, string | number>[],
  templateColumns?: string,
): HTMLElement {
  const grid = document.createElement('vscode-data-grid') as HTMLElement & {
    columnDefinitions: GridColumn[];
    rowsData: Record<string, string | number>[];
    gridTemplateColumns?: string;
  };
  grid.setAttribute('generate-header', 'sticky');
  grid.setAttribute('aria-label', 'table');
  grid.columnDefinitions = columns;
  grid.rowsData = rows;
  if (templateColumns) grid.gridTemplateColumns = templateColumns;
  return grid;
}
