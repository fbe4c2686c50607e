// A fan chart in plain SVG: recent prices, then the next day's median with its 80% and 95% bands.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function fmt(value) {
  return value.toLocaleString("en-US", { maximumFractionDigits: 2, minimumFractionDigits: 2 });
}

// history: prices oldest first; q: {q025, q10, q50, q90, q975}; labels: {first, last, next} date strings or null.
function drawFan(container, history, q, labels) {
  const width = 900, height = 380, left = 80, right = 140, top = 20, bottom = 40, fanWidth = 90;
  const lows = [...history, q.q025 ?? q.q10], highs = [...history, q.q975 ?? q.q90];
  const lo = Math.min(...lows), hi = Math.max(...highs), pad = (hi - lo) * 0.08 || 1;
  const y = (v) => top + (height - top - bottom) * (1 - (v - (lo - pad)) / (hi - lo + 2 * pad));
  const n = history.length;
  const x = (i) => left + (width - left - right - fanWidth) * (i / (n - 1 || 1));
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "chart-title" });
  svg.append(el("title", { id: "chart-title" }, `Fan chart: ${n} recent prices and the next day's forecast ${fmt(q.q50)}`));
  for (let k = 0; k <= 4; k++) {
    const v = lo - pad + ((hi - lo + 2 * pad) * k) / 4;
    svg.append(el("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), stroke: "#e3e3e3" }));
    svg.append(el("text", { x: left - 8, y: y(v) + 4, "text-anchor": "end", "font-size": 12, fill: "#333" }, fmt(v)));
  }
  const last = history[n - 1], xs = x(n - 1), xe = xs + fanWidth;
  const fan = (a, b, color) => svg.append(el("polygon", {
    points: `${xs},${y(last)} ${xe},${y(a)} ${xe},${y(b)}`, fill: color, stroke: "none",
  }));
  if (q.q025 !== undefined && q.q975 !== undefined) fan(q.q025, q.q975, "#c6d8f0");
  if (q.q10 !== undefined && q.q90 !== undefined) fan(q.q10, q.q90, "#5b8fd1");
  const path = history.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  svg.append(el("path", { d: path, fill: "none", stroke: "#111", "stroke-width": 1.8 }));
  svg.append(el("line", { x1: xs, y1: y(last), x2: xe, y2: y(q.q50), stroke: "#0b4f9c", "stroke-dasharray": "4 3" }));
  svg.append(el("circle", { cx: xe, cy: y(q.q50), r: 5, fill: "#0b4f9c" }));
  svg.append(el("text", { x: xe + 8, y: y(q.q50) + 4, "font-size": 13, fill: "#111" }, `median ${fmt(q.q50)}`));
  if (q.q10 !== undefined) svg.append(el("text", { x: xe + 8, y: y(q.q10) + 14, "font-size": 12, fill: "#333" }, `80%: ${fmt(q.q10)}`));
  if (q.q90 !== undefined) svg.append(el("text", { x: xe + 8, y: y(q.q90) - 6, "font-size": 12, fill: "#333" }, `80%: ${fmt(q.q90)}`));
  if (q.q025 !== undefined) svg.append(el("text", { x: xe + 8, y: y(q.q025) + 4, "font-size": 12, fill: "#555" }, `95%: ${fmt(q.q025)}`));
  if (q.q975 !== undefined) svg.append(el("text", { x: xe + 8, y: y(q.q975) + 4, "font-size": 12, fill: "#555" }, `95%: ${fmt(q.q975)}`));
  svg.append(el("text", { x: left, y: height - 12, "font-size": 12, fill: "#333" }, labels.first || `${n} prices ago`));
  svg.append(el("text", { x: xe, y: height - 12, "font-size": 12, fill: "#333", "text-anchor": "middle" }, labels.next || "next day"));
  container.replaceChildren(svg);
}

window.FanChart = { drawFan, fmt, el };
