// bench/results.svg by hand: one horizontal bar per contender (median req/s) with a
// min-max whisker, grouped by request kind, plus the table-growth pairs. One scale for
// every bar, so lengths compare across groups.
const BAR = 18;
const GAP = 6;
const LEFT = 16;
const LABEL = 330;
const WIDTH = 380;
const VALUE = 150;

function renderSvg(results) {
  const { small, big } = results.growth;
  const rows = (n) => `${n.toLocaleString("en")} rows`;
  const groups = [
    ...results.groups.map((group) => ({ title: group.title, bars: group.contenders })),
    {
      title: `latchkey as the sessions table grows (${rows(small.rows)} / ${rows(big.rows)})`,
      bars: ["verify", "verify, checkDatabase", "login", "refresh"].flatMap((metric) => [
        { ...small[metric], name: `${metric}, ${rows(small.rows)}` },
        { ...big[metric], name: `${metric}, ${rows(big.rows)}` },
      ]),
    },
  ];
  const max = Math.max(...groups.flatMap((group) => group.bars.map((bar) => bar.rps.max)));
  const scale = (value) => (value / max) * WIDTH;
  const parts = [];
  let y = 64;
  for (const group of groups) {
    parts.push(`<text x="${LEFT}" y="${y}" class="group">${escape(group.title)}</text>`);
    y += 8;
    for (const bar of group.bars) {
      const x = LEFT + LABEL;
      const width = Math.max(1, scale(bar.rps.median));
      const mid = y + BAR / 2;
      const colour = bar.name.startsWith("latchkey") || group === groups.at(-1) ? "#2150c8" : "#9aa4b5";
      parts.push(
        `<text x="${LEFT + 8}" y="${y + 13}" class="label">${escape(bar.name)}</text>`,
        `<rect x="${x}" y="${y}" width="${width.toFixed(1)}" height="${BAR}" rx="2" fill="${colour}"/>`,
        `<line x1="${(x + scale(bar.rps.min)).toFixed(1)}" x2="${(x + scale(bar.rps.max)).toFixed(1)}" y1="${mid}" y2="${mid}" class="whisker"/>`,
        `<text x="${(x + Math.max(width, scale(bar.rps.max)) + 6).toFixed(1)}" y="${y + 13}" class="value">${Math.round(bar.rps.median).toLocaleString("en")}/s · p50 ${bar.p50.toFixed(1)} ms</text>`,
      );
      y += BAR + GAP;
    }
    y += 16;
  }
  const m = results.memory;
  parts.push(
    `<text x="${LEFT}" y="${y}" class="label">Memory after ${m.logins.toLocaleString("en")} logins: heapUsed ${sign(m.growth.heapUsedMB)} MB, RSS ${sign(m.growth.rssMB)} MB over the idle process (after GC).</text>`,
  );
  y += 20;
  const width = LEFT + LABEL + WIDTH + VALUE;
  const subtitle =
    `${results.date.slice(0, 10)} · Node ${results.node} · ${results.cpus} CPUs · ${results.loadGenerator}, ` +
    `${results.settings.connections} connections · median of ${results.settings.rounds} × ${results.settings.durationSeconds}s (whisker: min-max)` +
    (results.settings.quick ? " · QUICK MODE" : "");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="system-ui, -apple-system, sans-serif">
<style>
  .title { font-size: 16px; font-weight: 600; fill: #1d2330; }
  .subtitle { font-size: 11px; fill: #5b6475; }
  .group { font-size: 13px; font-weight: 600; fill: #1d2330; }
  .label, .value { font-size: 12px; fill: #1d2330; }
  .whisker { stroke: #1d2330; stroke-width: 1.5; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="${LEFT}" y="24" class="title">latchkey benchmark: requests per second (2xx)</text>
<text x="${LEFT}" y="42" class="subtitle">${escape(subtitle)}</text>
${parts.join("\n")}
</svg>
`;
}

function escape(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const sign = (n) => (n >= 0 ? `+${n}` : String(n));

module.exports = { renderSvg };
