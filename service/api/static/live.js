// Live calibration: per series, each interval's coverage over its last 250 scored days, drawn day by day inside
// the band a calibrated interval keeps to, beside the test split's coverage from the model card.
"use strict";

const LIVE_SERIES = 6;  // the series scored most often; GET /calibration has them all
const LIVE_COLORS = { "0.8": "#0b4f9c", "0.95": "#b35900" };

function percent(value) {
  return typeof value === "number" && Number.isFinite(value) ? `${(100 * value).toFixed(1)}%` : "-";
}

function liveSvg(name, rolling) {
  const { el } = window.FanChart;
  const width = 900, height = 260, left = 60, right = 20, top = 16, bottom = 34;
  const labels = Object.keys(rolling.coverage);
  const values = labels.flatMap((l) => [...rolling.coverage[l], ...rolling.band[l]]);
  const lo = Math.max(0, Math.min(...values) - 0.02), hi = Math.min(1, Math.max(...values) + 0.02);
  const y = (v) => top + (height - top - bottom) * (1 - (v - lo) / (hi - lo || 1));
  const days = rolling.day, first = days[0], span = days[days.length - 1] - first || 1;
  const x = (d) => left + (width - left - right) * ((d - first) / span);
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  svg.append(el("title", {}, `${name}: coverage of the last ${rolling.days} scored days, day by day, ` +
    labels.map((l) => `${Math.round(100 * l)}% interval inside its band ${rolling.band[l].map(percent).join("-")}`).join(", ")));
  for (const label of labels) {
    const [bandLo, bandHi] = rolling.band[label];
    svg.append(el("rect", { x: left, width: width - left - right, y: y(bandHi), height: y(bandLo) - y(bandHi),
      fill: LIVE_COLORS[label] || "#666", "fill-opacity": 0.1, class: `band band-${Math.round(100 * label)}` }));
    svg.append(el("line", { x1: left, x2: width - right, y1: y(+label), y2: y(+label), stroke: LIVE_COLORS[label] || "#666",
      "stroke-dasharray": "4 3", "stroke-opacity": 0.6 }));
    const path = rolling.coverage[label].map((v, i) => `${i ? "L" : "M"}${x(days[i]).toFixed(1)},${y(v).toFixed(1)}`);
    svg.append(el("path", { d: path.join(" "), fill: "none", stroke: LIVE_COLORS[label] || "#666", "stroke-width": 1.6,
      class: `coverage coverage-${Math.round(100 * label)}` }));
    svg.append(el("text", { x: width - right - 4, y: y(+label) - 4, "text-anchor": "end", "font-size": 12,
      fill: LIVE_COLORS[label] || "#666" }, `${Math.round(100 * label)}% interval`));
  }
  for (const v of [lo, (lo + hi) / 2, hi]) {
    svg.append(el("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 12, fill: "#333" }, percent(v)));
  }
  const dated = (i) => rolling.date[i] || `day ${days[i]}`;
  svg.append(el("text", { x: left, y: height - 10, "font-size": 12, fill: "#333" }, dated(0)));
  svg.append(el("text", { x: width - right, y: height - 10, "font-size": 12, fill: "#333", "text-anchor": "end" },
    dated(days.length - 1)));
  return svg;
}

// One series: its figure (once it has 250 scored days) and its numbers beside the test split's.
function liveFigure(row, testCoverage) {
  const figure = document.createElement("figure");
  figure.className = "live-series";
  figure.dataset.series = row.series;
  const rolling = row.rolling || { windows: 0 };
  if (rolling.windows > 0) figure.append(liveSvg(row.series, rolling));
  const caption = document.createElement("figcaption");
  const parts = Object.entries(row.coverage || {}).sort((a, b) => a[0] - b[0]).map(([label, value]) => {
    const test = testCoverage[String(Math.round(100 * label))];
    const recent = ((row.last_250 || {}).coverage || {})[label];
    const outside = (rolling.outside_band || {})[label];
    return `${Math.round(100 * label)}% interval: ${percent(value)} live (last 250 days ${percent(recent)}, Kupiec p ` +
      `${(row.kupiec_p[label] ?? NaN).toFixed(3)}${rolling.windows ? `, ${percent(outside)} of 250-day windows ` +
      "outside the band" : ""}), ${percent(test)} on the test split`;
  });
  const adapted = row.unadjusted ? " Intervals adapted online (FORECAST_ADAPT=aci)." : "";
  caption.textContent = `${row.series}: ${row.scored} days scored. ${parts.join("; ")}.${adapted}` +
    (rolling.windows ? "" : ` The rolling plot starts at ${rolling.days || 250} scored days.`);
  figure.append(caption);
  return figure;
}

async function loadLive(version, testCoverage) {
  const status = document.getElementById("live-status");
  try {
    const query = new URLSearchParams({ model: version, rolling: "true", most: String(LIVE_SERIES) });
    const response = await fetch(`/calibration?${query}`);
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    const rows = body.series || [];
    document.getElementById("live-series").replaceChildren(...rows.map((row) => liveFigure(row, testCoverage)));
    status.textContent = rows.length
      ? `How ${version}'s intervals held on the prices that followed, series by series (the ${rows.length} scored most).`
      : "No forecast of this version has been scored yet: post a series' windows day after day (or its prices to " +
        "POST /outcomes) and each day's price scores the forecast before it.";
  } catch (err) {
    status.textContent = `Live calibration is not available: ${err.message}`;
  }
}

window.LiveCalibration = { loadLive };
