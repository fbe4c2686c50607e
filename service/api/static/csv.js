// Reads prices from pasted text or a daily CSV (.csv or .csv.gz) with the trainer's rules
// (training/core/csvfile.py): comma, semicolon or tab; the date column by name; the price column asked for, else
// Adj Close, else Close, else the only value column; quoted thousands ("1,015.25"); decimal commas in
// semicolon/tab files; blank rows and missing values skipped; rows sorted by date, the later row of a repeated date
// kept. The same table of files (tests/data/csv/) checks this reader, the trainer's and the client's. Errors are
// thrown as Error with a message that names the row and column and says what to fix.
"use strict";

const DATE_NAMES = ["date", "observationdate", "timestamp", "datetime", "day", "time"];
const MISSING = new Set(["", ".", "null", "nan", "na", "n/a", "#n/a", "none", "-"]);
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INFINITY = /^[+-]?inf(inity)?$/i;
const THOUSANDS = /^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$/;
const DECIMAL_COMMA = /^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$/;

function normalizeName(name) {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

// One line's cells: quotes group a cell ("1,015.25"); a doubled quote inside is one quote.
function splitRow(line, delimiter) {
  const cells = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"' && quoted && line[i + 1] === '"') { cell += '"'; i++; }
    else if (ch === '"') quoted = !quoted;
    else if (ch === delimiter && !quoted) { cells.push(cell); cell = ""; }
    else cell += ch;
  }
  cells.push(cell);
  return cells;
}

function sniffDelimiter(header) {
  const counts = [",", ";", "\t"].map((d) => [header.split(d).length - 1, d]);
  counts.sort((a, b) => b[0] - a[0] || (a[1] === "," ? -1 : b[1] === "," ? 1 : 0));
  return counts[0][1];
}

function iso(y, mo, d) {
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (y < 1 || date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return date.toISOString().slice(0, 10);
}

function month(name) {
  const index = MONTHS.indexOf(name.toLowerCase());
  return index < 0 ? NaN : index + 1;
}

// The trainer's DATE_FORMATS: %Y-%m-%d, %m/%d/%Y, %Y/%m/%d, %Y%m%d, %d-%b-%Y, %b %d, %Y and %d.%m.%Y.
function parseOneDate(t) {
  const forms = [
    [/^(\d{4})-(\d{1,2})-(\d{1,2})$/, (m) => iso(+m[1], +m[2], +m[3])],
    [/^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, (m) => iso(+m[3], +m[1], +m[2])],
    [/^(\d{4})\/(\d{1,2})\/(\d{1,2})$/, (m) => iso(+m[1], +m[2], +m[3])],
    [/^(\d{4})(\d{2})(\d{2})$/, (m) => iso(+m[1], +m[2], +m[3])],
    [/^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/, (m) => iso(+m[3], month(m[2]), +m[1])],
    [/^([A-Za-z]{3}) (\d{1,2}), (\d{4})$/, (m) => iso(+m[3], month(m[1]), +m[2])],
    [/^(\d{1,2})\.(\d{1,2})\.(\d{4})$/, (m) => iso(+m[3], +m[2], +m[1])],
  ];
  for (const [pattern, make] of forms) {
    const m = t.match(pattern);
    if (m && make(m)) return make(m);
  }
  return null;
}

// A date, or null; a time of day after a space or a T is ignored.
function parseDate(text) {
  const t = text.trim();
  return parseOneDate(t) || parseOneDate(t.split(/[T ]/)[0]);
}

// A number, null for a missing-value token, NaN for anything else; "inf" is a number, never a price.
function parseNumber(text, decimalComma) {
  const t = text.trim();
  if (MISSING.has(t.toLowerCase())) return null;
  if (INFINITY.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (decimalComma) return DECIMAL_COMMA.test(t) ? Number(t.replace(/\./g, "").replace(",", ".")) : NaN;
  const plain = THOUSANDS.test(t) ? t.replace(/,/g, "") : t;
  return NUMBER.test(plain) ? Number(plain) : NaN;
}

function singleColumnHint(header) {
  if (header.length !== 1) return "";
  const seen = [["|", "pipe"], [" ", "space"], [":", "colon"]].filter(([mark]) => header[0].trim().includes(mark));
  const looks = seen.length ? ` (it looks ${seen[0][1]}-separated)` : "";
  return `; the header row is a single column${looks}: save the file with comma, semicolon or tab delimiters`;
}

function pickColumns(header, column) {
  const names = header.map(normalizeName);
  let dateIdx = names.findIndex((n) => DATE_NAMES.includes(n));
  if (dateIdx < 0) dateIdx = 0;
  const values = names.map((_, i) => i).filter((i) => i !== dateIdx);
  const shown = header.map((h) => `'${h.trim()}'`).join(", ");
  if (column) {
    const idx = values.find((i) => names[i] === normalizeName(column));
    if (idx === undefined) throw new Error(`row 1: unknown column '${column}'; the file has ${shown}${singleColumnHint(header)}`);
    return [dateIdx, idx];
  }
  for (const wanted of ["adjclose", "close"]) {
    if (names.includes(wanted)) return [dateIdx, names.indexOf(wanted)];
  }
  if (values.length === 1) return [dateIdx, values[0]];
  throw new Error(
    `row 1: no 'Adj Close' or 'Close' column; the file has ${shown}; type the column to use${singleColumnHint(header)}`
  );
}

// One row's [date, price] (price null: missing), in the trainer's order of checks.
function rowPrice(line, cells, header, [dateIdx, priceIdx], decimalComma) {
  if (cells.length <= Math.max(dateIdx, priceIdx)) {
    throw new Error(`row ${line}: ${cells.length} fields, the header has ${header.length}`);
  }
  const date = parseDate(cells[dateIdx]);
  if (date === null) throw new Error(`row ${line}: column '${header[dateIdx].trim()}': '${cells[dateIdx]}' is not a date`);
  const where = `row ${line}: column '${header[priceIdx].trim()}': '${cells[priceIdx]}'`;
  const value = parseNumber(cells[priceIdx], decimalComma);
  if (Number.isNaN(value)) {
    throw new Error(`${where} is not a number${decimalComma ? " with a decimal comma (like 1.234,56)" : ""}`);
  }
  if (value !== null && !(value > 0 && value < Infinity)) throw new Error(`${where} is not a positive price`);
  return [date, value];
}

// A CSV's prices, oldest first: {prices, dates, column}.
function parseCsv(text, column) {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const delimiter = sniffDelimiter(lines[0]);
  const header = splitRow(lines[0], delimiter);
  if (!header.some((h) => h.trim() !== "")) throw new Error("row 1: the file is empty or has no header");
  const columns = pickColumns(header, column);
  const rows = lines.slice(1).map((line, i) => [i + 2, splitRow(line, delimiter)])
    .filter(([, cells]) => cells.some((c) => c.trim() !== ""));
  const decimalComma = delimiter !== "," && rows.some(([, cells]) => (cells[columns[1]] || "").includes(","));
  const byDate = new Map();
  for (const [line, cells] of rows) {
    const [date, value] = rowPrice(line, cells, header, columns, decimalComma);
    if (value !== null) byDate.set(date, value);  // a later row for the same date wins, as in the trainer
  }
  if (byDate.size === 0) throw new Error(`column '${header[columns[1]].trim()}': no prices in the file`);
  const dates = [...byDate.keys()].sort();
  return { dates, prices: dates.map((d) => byDate.get(d)), column: header[columns[1]].trim() };
}

// A file's text, gunzipped through the browser's own gzip stream when it is gzip (by its first bytes) or is named
// .gz, as the trainer's bundled .csv.gz files are.
async function fileText(file) {
  const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  if (!(head[0] === 0x1f && head[1] === 0x8b) && !file.name.endsWith(".gz")) return file.text();
  try {
    return await new Response(file.stream().pipeThrough(new DecompressionStream("gzip"))).text();
  } catch {
    throw new Error(`${file.name}: not a valid gzip file`);
  }
}

// A chosen file's prices, oldest first.
async function readFile(file, column) {
  return parseCsv(await fileText(file), column);
}

// Pasted numbers, oldest first: {prices, dates: null}.
function parsePasted(text) {
  const tokens = text.split(/[\s,;]+/).filter((t) => t !== "");
  if (tokens.length === 0) throw new Error("paste some prices first, or choose a CSV file");
  const prices = tokens.map((t, i) => {
    const value = Number(t);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`price ${i + 1} ('${t}') is not a positive number`);
    return value;
  });
  return { prices, dates: null, column: null };
}

window.PriceInput = { parseCsv, parsePasted, parseDate, readFile };
