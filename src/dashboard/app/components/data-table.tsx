/**
 * The dashboard's lists as tables: a caption for screen readers, a header row of column headers, and one row per
 * item. On narrow screens the header row is hidden and each cell shows its column's name (its `data-label`).
 */
import type { ComponentChildren } from 'preact';

export interface Column<Row> {
  /** The column header, and the label a cell carries in the narrow layout. */
  header: string;
  cell(row: Row): ComponentChildren;
  /** A class for every cell of the column. */
  class?: string;
}

interface DataTableProps<Row> {
  /** Read by screen readers only: what the rows are and their order. */
  caption: string;
  columns: readonly Column<Row>[];
  rows: readonly Row[];
  /** A stable key per row, also set as `keyAttribute` on the row (`data-user="…"`) for links and tests to find. */
  rowKey(row: Row): string;
  keyAttribute: `data-${string}`;
  /** A class beside `data-table`, for the column widths one table needs. */
  class?: string;
}

export function DataTable<Row>({ caption, columns, rows, rowKey, keyAttribute, class: extraClass }: DataTableProps<Row>) {
  return (
    <table class={extraClass ? `data-table ${extraClass}` : 'data-table'}>
      <caption class="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {columns.map((column) => (
            <th key={column.header} scope="col">
              {column.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => {
          const key = rowKey(row);
          return (
            <tr key={key} {...{ [keyAttribute]: key }}>
              {columns.map((column) => (
                <td key={column.header} data-label={column.header} class={column.class}>
                  {column.cell(row)}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
