// Reads prices from pasted text or a daily CSV, with the trainer's rules (training/data.py): comma,
// semicolon or tab; the date column by name; the price column asked for, else Adj Close, else Close, else
// the only value column; quoted thousands ("1,015.25"); decimal commas in semicolon/tab files; rows sorted
// by date. Errors are thrown as Error with a message that says what to fix.
"use strict";

const DATE_NAMES = ["date", "observationdate", "timestamp", "datetime", "day", "time"];
const MISSING = new Set(["", ".", "null", "nan", "na", "n/a", "#n/a", "none", "-"]);

function normalizeName(name) {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

function splitRow(line, delimiter) {
  const cells = [];
  let cell = "";
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === delimiter && !quoted) { cells.push(cell); cell = ""; }
    else cell += ch;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

function sniffDelimiter(header) {
  const counts = [",", ";", "\t"].map((d) => [header.split(d).length - 1, d]);
  counts.sort((a, b) => b[0] - a[0] || (a[1] === "," ? -1 : 1));
  return counts[0][1];
}

function parseDate(text) {
  const t = text.trim().split(/[T ]/)[0];
  let m = t.match(/^(\d{4})-(\d{1,2})-(\d{1,2})$/) || t.match(/^(\d{4})\/(\d{1,2})\/(\d{1,2})$/);
  if (m) return iso(+m[1], +m[2], +m[3]);
  m = t.match(/^(\d{1,2})\/(\d{1,2})\/(\d{4})$/);
  if (m) return iso(+m[3], +m[1], +m[2]);
  m = t.match(/^(\d{1,2})\.(\d{1,2})\.(\d{4})$/);
  if (m) return iso(+m[3], +m[2], +m[1]);
  return null;
}

function iso(y, mo, d) {
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return date.toISOString().slice(0, 10);
}

function parseNumber(text, decimalComma) {
  let t = text.trim();
  if (MISSING.has(t.toLowerCase())) return null;
  if (decimalComma) t = t.replace(/\./g, "").replace(",", ".");
  else if (/^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$/.test(t)) t = t.replace(/,/g, "");
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return NaN;
  return Number(t);
}

function pickColumns(header, column) {
  const names = header.map(normalizeName);
  let dateIdx = names.findIndex((n) => DATE_NAMES.includes(n));
  if (dateIdx < 0) dateIdx = 0;
  const shown = header.map((h) => `'${h}'`).join(", ");
  if (column) {
    const idx = names.findIndex((n, i) => i !== dateIdx && n === normalizeName(column));
    if (idx < 0) throw new Error(`no column '${column}' in the file; it has ${shown}`);
    return [dateIdx, idx];
  }
  for (const wanted of ["adjclose", "close"]) {
    const idx = names.indexOf(wanted);
    if (idx >= 0) return [dateIdx, idx];
  }
  if (header.length === 2) return [dateIdx, 1 - dateIdx];
  throw new Error(`no 'Adj Close' or 'Close' column; type the column to use (the file has ${shown})`);
}

// A CSV's prices, oldest first: {prices, dates, column}.
function parseCsv(text, column) {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length < 2) throw new Error("the file has no data rows under its header");
  const delimiter = sniffDelimiter(lines[0]);
  const header = splitRow(lines[0], delimiter);
  if (header.length < 2) throw new Error("the header row is a single column: use comma, semicolon or tab delimiters");
  const [dateIdx, priceIdx] = pickColumns(header, column);
  const decimalComma = delimiter !== "," && lines.slice(1).some((l) => (splitRow(l, delimiter)[priceIdx] || "").includes(","));
  const rows = [];
  lines.slice(1).forEach((line, i) => {
    const cells = splitRow(line, delimiter);
    const where = `row ${i + 2}, column '${header[priceIdx]}'`;
    const value = parseNumber(cells[priceIdx] || "", decimalComma);
    if (value === null) return;
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${where}: '${cells[priceIdx]}' is not a positive price`);
    const date = parseDate(cells[dateIdx] || "");
    if (date === null) throw new Error(`row ${i + 2}, column '${header[dateIdx]}': '${cells[dateIdx]}' is not a date`);
    rows.push([date, value]);
  });
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const byDate = new Map(rows);  // a later row for the same date wins, as in the trainer
  return { dates: [...byDate.keys()], prices: [...byDate.values()], column: header[priceIdx] };
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

window.PriceInput = { parseCsv, parsePasted, parseDate };
