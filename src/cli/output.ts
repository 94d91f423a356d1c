/**
 * How verbs print: aligned text tables for people by default, JSON for scripts with `--json` (one
 * document per command; `tail` prints one JSON object per line so it can stream).
 */

/** One table column: header text and how to read the cell from a row. */
export interface Column<Row> {
  readonly header: string;
  readonly cell: (row: Row) => string | number;
  /** Right-align (numbers). */
  readonly numeric?: boolean;
}

/** The writable side the output goes to (stdout in the CLI). */
export interface TextSink {
  write(text: string): unknown;
}

/** Printer for one command run: `json` chooses machine output. */
export class Output {
  readonly json: boolean;
  readonly #sink: TextSink;

  constructor(json: boolean, sink: TextSink) {
    this.json = json;
    this.#sink = sink;
  }

  /** Prints `value` as one JSON document (with `--json`) or `human` otherwise. */
  result(value: unknown, human: string): void {
    this.#sink.write(this.json ? `${JSON.stringify(value)}\n` : `${human}\n`);
  }

  /** Prints rows: a JSON array (with `--json`) or an aligned table; `empty` when there are none. */
  table<Row>(rows: readonly Row[], columns: readonly Column<Row>[], empty: string): void {
    if (this.json) {
      this.#sink.write(`${JSON.stringify(rows)}\n`);
      return;
    }
    if (rows.length === 0) {
      this.#sink.write(`${empty}\n`);
      return;
    }
    this.#sink.write(formatTable(rows, columns));
  }

  /** Prints one line as is (streamed records). */
  line(text: string): void {
    this.#sink.write(`${text}\n`);
  }
}

/** Renders rows as space-aligned columns under an upper-case header line. */
export function formatTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((column) => String(column.cell(row))));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i]!.length)));
  const render = (line: readonly string[]): string =>
    line
      .map((text, i) => (columns[i]!.numeric === true ? text.padStart(widths[i]!) : text.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [render(columns.map((c) => c.header.toUpperCase())), ...cells.map(render)].join('\n') + '\n';
}
