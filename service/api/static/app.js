// The page: the live model's card and record, and a form that posts a window to /predict and draws the answer.
"use strict";

const state = { window: 60, maxWindow: 60, levels: [] };
const $ = (id) => document.getElementById(id);

function addFact(list, term, value) {
  const dt = document.createElement("dt");
  const dd = document.createElement("dd");
  dt.textContent = term;
  dd.textContent = value;
  list.append(dt, dd);
}

function number(value, digits = 3) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "-";
}

const SIMULATED = "simulated ";  // the trainer names every simulated training path so

function simulatedKinds(names) {
  const kinds = [...new Set(names.map((n) => n.slice(SIMULATED.length).replace(/ #\d+$/, "")))].sort();
  return kinds.join(" and ");
}

// The files with their date ranges; the simulated paths in one line ("24 simulated paths, GARCH-t and GJR-skew-t").
function trainedOn(training) {
  const files = training.data || [{ file: training.data_file, start: training.data_start, end: training.data_end }];
  const real = files.filter((f) => !String(f.file).startsWith(SIMULATED));
  const simulated = files.filter((f) => String(f.file).startsWith(SIMULATED)).map((f) => f.file);
  const parts = real.map((f) => `${f.file} (${f.start} .. ${f.end})`);
  if (simulated.length) parts.push(`${simulated.length} simulated paths, ${simulatedKinds(simulated)}`);
  return parts.join("; ");
}

function showCard(card) {
  state.window = card.window;
  state.maxWindow = card.max_window || card.window;
  state.levels = card.quantiles || [];
  const range = state.maxWindow > state.window ? `${state.window} to ${state.maxWindow}` : String(state.window);
  document.querySelectorAll(".window-length").forEach((node) => { node.textContent = String(state.maxWindow); });
  const facts = $("model-facts");
  const test = (card.metrics && card.metrics.test) || {};
  const coverage = card.interval_coverage || {};
  addFact(facts, "version", card.version);
  addFact(facts, "trained on", trainedOn(card.training || {}));
  addFact(facts, "created", card.created || "-");
  addFact(facts, "window / horizon", `${range} prices in, ${card.horizon || 1} day(s) ahead`);
  addFact(facts, "quantile levels", state.levels.join(", ") || "none");
  addFact(facts, "normalisation", (card.normalization || {}).kind || "-");
  addFact(facts, "execution providers", (card.execution_providers || []).join(", "));
  addFact(facts, "MAE / naive MAE (test)", number(test.mae_ratio, 4));
  addFact(facts, "interval coverage (test)", `80%: ${number(coverage["80"])}, 95%: ${number(coverage["95"])}`);
  facts.hidden = false;
  $("model-status").textContent = `Serving ${card.version}.`;
  const gate = card.quality_gate || {};
  if (gate.rules) {
    addFact(facts, "quality gate", `${gate.passed ? "passed" : "not passed"}: ${gate.rules.join("; and with ")}`);
  }
  showRecord(test);
  showLongest((card.metrics || {}).test_longest);
  window.LiveCalibration.loadLive(card.version, coverage);
}

const RECORD_ROWS = ["model", "naive", "naive + GARCH(1,1)-t", "naive + GJR-GARCH-skew-t", "naive + FHS",
  "naive + EWMA Gaussian"];

function tableRow(cells) {
  const tr = document.createElement("tr");
  cells.forEach((text, i) => {
    const cell = document.createElement(i ? "td" : "th");
    if (!i) cell.scope = "row";
    cell.textContent = text;
    tr.append(cell);
  });
  return tr;
}

function showRecord(test) {
  const body = $("record-table").querySelector("tbody");
  const rows = RECORD_ROWS.filter((name) => test[name]);
  for (const name of rows) {
    const row = test[name];
    const iv = row.intervals || {};
    body.append(tableRow([name, number(row.mae, 2), number((iv.coverage_80 || {}).coverage),
      number((iv.coverage_95 || {}).coverage), number(iv.pinball_pct, 4)]));
  }
  $("record-table").hidden = rows.length === 0;
  showSeries(test.per_series || []);
}

function significance(row) {
  // the Holm-adjusted DM tests against the strongest simple methods, in words
  const worse = [], better = [];
  for (const [name, t] of Object.entries(row.dm || {})) {
    if (t.p_holm < 0.05) (t.statistic > 0 ? worse : better).push(name.replace("naive + ", ""));
  }
  const parts = [];
  if (better.length) parts.push(`better than ${better.join(", ")}`);
  if (worse.length) parts.push(`worse than ${worse.join(", ")}`);
  return parts.length ? `significantly ${parts.join("; ")}` : "no significant difference";
}

function seriesRows(table, rows) {
  const body = table.querySelector("tbody");
  for (const row of rows) {
    body.append(tableRow([row.series, String(row.days), row.best_simple.replace("naive + ", ""),
      number(row.ratio_to_best, 4), significance(row)]));
  }
}

// The test split again with the longest window the model reads, where it reads more than one length.
function showLongest(test) {
  if (!test) return;
  $("longest-length").textContent = String(test.window);
  seriesRows($("longest-table"), (test.per_series || []).filter((row) => !row.simulated));
  $("longest-table").hidden = false;
}

// The data files' series in the table; the simulated paths folded beneath it, summarised in one line.
function showSeries(perSeries) {
  const real = perSeries.filter((row) => !row.simulated);
  const simulated = perSeries.filter((row) => row.simulated);
  seriesRows($("series-table"), real);
  seriesRows($("simulated-table"), simulated);
  $("series-table").hidden = real.length === 0;
  $("simulated-summary").textContent =
    `${simulated.length} simulated paths, ${simulatedKinds(simulated.map((row) => row.series))}: scored, not gated`;
  $("simulated-series").hidden = simulated.length === 0;
}

async function loadCard() {
  try {
    const response = await fetch("/model");
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    showCard(body);
  } catch (err) {
    $("model-status").textContent = `No model to show: ${err.message}`;
  }
}

function showError(message, input) {
  $("input-error").textContent = message;
  for (const id of ["prices", "csv-file", "column"]) $(id).removeAttribute("aria-invalid");
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

async function readInput() {
  const file = $("csv-file").files[0];
  const column = $("column").value.trim() || null;
  if (file) return window.PriceInput.readFile(file, column);
  return window.PriceInput.parsePasted($("prices").value);
}

function lastWindow(parsed) {
  if (parsed.prices.length < state.window) {
    throw new Error(`${parsed.prices.length} price(s) given; the model needs at least ${state.window} (oldest first)`);
  }
  const n = Math.min(parsed.prices.length, state.maxWindow);  // all the model reads: up to its max_window
  const body = { window: parsed.prices.slice(-n) };
  if (parsed.dates) body.dates = parsed.dates.slice(-n);
  return body;
}

function quantileMap(answer) {
  const q = answer.quantiles || {};
  return { q025: q["0.025"], q10: q["0.1"], q50: answer.forecast, q90: q["0.9"], q975: q["0.975"] };
}

function showForecast(answer, request) {
  const fmt = window.FanChart.fmt;
  const q = quantileMap(answer);
  const when = answer.forecast_date ? ` for ${answer.forecast_date}` : " for the next trading day";
  $("forecast-text").replaceChildren(`Forecast${when}: `);
  const value = document.createElement("strong");
  value.id = "forecast-value";
  value.textContent = fmt(answer.forecast);
  $("forecast-text").append(value);
  const bands = [];
  if (q.q10 !== undefined && q.q90 !== undefined) bands.push(`80% interval ${fmt(q.q10)} to ${fmt(q.q90)}`);
  if (q.q025 !== undefined && q.q975 !== undefined) bands.push(`95% interval ${fmt(q.q025)} to ${fmt(q.q975)}`);
  $("forecast-text").append(`${bands.length ? "; " + bands.join("; ") : ""} (model ${answer.model_version}).`);
  const body = $("forecast-table").querySelector("tbody");
  body.replaceChildren();
  for (const [level, price] of Object.entries(answer.quantiles || { "0.5": answer.forecast })) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = level;
    const td = document.createElement("td");
    td.textContent = fmt(price);
    tr.append(th, td);
    body.append(tr);
  }
  const dates = request.dates || null;
  window.FanChart.drawFan($("chart"), request.window, q, {
    first: dates ? dates[0] : null,
    next: answer.forecast_date || null,
  });
  $("result").hidden = false;
}

async function onSubmit(event) {
  event.preventDefault();
  $("try-form").setAttribute("aria-busy", "true");  // until the forecast or the error is shown
  showError("");
  const input = $("csv-file").files.length ? $("csv-file") : $("prices");
  try {
    const request = lastWindow(await readInput());
    const response = await fetch("/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(request),
    });
    const answer = await response.json().catch(() => ({ error: `the server answered HTTP ${response.status}` }));
    if (!response.ok) throw new Error(answer.error || `the server answered HTTP ${response.status}`);
    showForecast(answer, request);
  } catch (err) {
    $("result").hidden = true;
    showError(err.message, input);
  } finally {
    $("try-form").removeAttribute("aria-busy");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("try-form").addEventListener("submit", onSubmit);
  $("csv-file").addEventListener("change", () => { if ($("csv-file").files.length) $("prices").value = ""; });
  for (const img of document.querySelectorAll(".plots img")) {
    const missing = () => img.replaceWith(Object.assign(document.createElement("p"), { textContent: "Not recorded for this version." }));
    if (img.complete && img.naturalWidth === 0) missing();
    else img.addEventListener("error", missing);
  }
  loadCard();
});
