/**
 * Renders an evaluation report: Markdown (the terminal and `table.md`), CSV (one tidy row per
 * model, set and language, paper rows included) and an SVG chart of F1 per language, this model
 * against the paper's rows. Strings only, so Node and the browser page render the same bytes.
 */
import { publishedRows, PUBLISHED_SOURCE } from './published.js';
import { f1Of, langsOf, reportNotes, reportTables, type EvalReport, type Table } from './report.js';

function markdownTable(table: Table): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [
    `**${table.title}**`,
    '',
    `| ${table.header.map(cell).join(' | ')} |`,
    `|${table.header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
    ...table.rows.map((row, i) => `| ${row.map((text, j) => (i === table.emphasize && j === 0 ? `**${cell(text)}**` : cell(text))).join(' | ')} |`),
  ].join('\n');
}

/** The whole report as Markdown: every table, then the notes. */
export function renderMarkdown(report: EvalReport): string {
  const notes = reportNotes(report).map((note) => `- ${note}`);
  return [`## Evaluation of ${report.model}`, ...reportTables(report).map(markdownTable), notes.join('\n')].join('\n\n') + '\n';
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const CSV_HEADER = [
  'model',
  'source',
  'set',
  'lang',
  'n',
  'f1',
  'precision',
  'recall',
  'accuracy',
  'unknown_share',
  'mode',
  'tokens_decoded',
  'tokens_fed',
  'reasoned_share',
] as const;

/**
 * The scores as CSV, one row per model, set and language; x100 like the paper. Paper rows have
 * only `f1`; `unknown_share` and `reasoned_share` are fractions, the token columns means per verdict.
 */
export function renderCsv(report: EvalReport): string {
  const pct = (value: number | null) => (value === null ? null : Number((value * 100).toFixed(4)));
  const rows: Array<Array<string | number | null>> = report.cells.map((c) => [
    report.model,
    'this run',
    c.dataset,
    c.lang,
    c.scores.n,
    pct(c.scores.f1),
    pct(c.scores.precision),
    pct(c.scores.recall),
    pct(c.scores.accuracy),
    c.scores.unknownShare === null ? null : Number(c.scores.unknownShare.toFixed(6)),
    report.mode,
    c.cost.generated === null ? null : Number(c.cost.generated.toFixed(3)),
    c.cost.forward === null ? null : Number(c.cost.forward.toFixed(3)),
    c.cost.reasonedShare === null ? null : Number(c.cost.reasonedShare.toFixed(6)),
  ]);
  for (const dataset of report.datasets) {
    for (const row of publishedRows(dataset)) {
      for (const lang of langsOf(report, dataset)) {
        const f1 = row.f1[lang];
        if (f1 !== undefined) rows.push([row.model, PUBLISHED_SOURCE, dataset, lang, null, f1, null, null, null, null, null, null, null, null]);
      }
    }
  }
  return [CSV_HEADER.join(','), ...rows.map((row) => row.map(csvField).join(','))].join('\n') + '\n';
}

/** Colours of the paper's rows, one per model name (in first-seen order). */
const PALETTE = ['#8c96a8', '#4e79a7', '#e2a25a', '#b07aa1', '#59a14f', '#e15759'] as const;
const THIS_MODEL = '#111111';

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One set's panel; `top` leaves room for the chart's two title lines and the panel's own. */
const PANEL = { width: 460, height: 330, left: 48, right: 16, inset: 18, top: 76, bottom: 40 } as const;
const LEGEND_WIDTH = 300;

/**
 * An SVG chart: one panel per set, F1 (x100, 0–100) per language; this model as a thick line
 * with its values, the paper's rows as thin lines. Languages without a value leave a gap.
 */
export function renderSvg(report: EvalReport): string {
  const models = [...new Set(report.datasets.flatMap((d) => publishedRows(d).map((r) => r.model)))];
  const colour = (model: string) => PALETTE[models.indexOf(model) % PALETTE.length] ?? PALETTE[0];
  const panels = Math.max(1, report.datasets.length);
  const width = panels * PANEL.width + LEGEND_WIDTH;
  const height = PANEL.height + 34;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="600">F1 of the harmful class (x100) per language</text>`,
    `<text x="12" y="40" fill="#333">${escapeXml(`${report.model} (this run, thick) vs. the ${PUBLISHED_SOURCE} (thin)`)}</text>`,
  ];
  report.datasets.forEach((dataset, index) => {
    const langs = langsOf(report, dataset);
    const x0 = index * PANEL.width;
    const plotW = PANEL.width - PANEL.left - PANEL.right;
    const innerW = plotW - 2 * PANEL.inset;
    const plotH = PANEL.height - PANEL.top - PANEL.bottom;
    const x = (i: number) => x0 + PANEL.left + PANEL.inset + (langs.length === 1 ? innerW / 2 : (i * innerW) / (langs.length - 1));
    const y = (f1: number) => PANEL.top + plotH - (Math.max(0, Math.min(100, f1)) / 100) * plotH;
    const n = report.cells.find((c) => c.dataset === dataset)?.scores.n ?? 0;
    parts.push(`<text x="${x0 + PANEL.left}" y="${PANEL.top - 14}" font-weight="600">${escapeXml(`${dataset} (n = ${n} per language)`)}</text>`);
    for (let tick = 0; tick <= 100; tick += 20) {
      parts.push(
        `<line x1="${x0 + PANEL.left}" x2="${x0 + PANEL.left + plotW}" y1="${y(tick)}" y2="${y(tick)}" stroke="#e6e6e6"/>`,
        `<text x="${x0 + PANEL.left - 6}" y="${y(tick) + 4}" text-anchor="end" fill="#555">${tick}</text>`,
      );
    }
    langs.forEach((lang, i) => {
      parts.push(`<text x="${x(i)}" y="${PANEL.top + plotH + 18}" text-anchor="middle" fill="#333">${escapeXml(lang)}</text>`);
    });
    for (const row of publishedRows(dataset)) {
      parts.push(polyline(langs.map((lang) => row.f1[lang] ?? null), x, y, colour(row.model), 1.5));
    }
    const own = langs.map((lang) => f1Of(report, dataset, lang));
    parts.push(polyline(own, x, y, THIS_MODEL, 3));
    own.forEach((f1, i) => {
      if (f1 === null) return;
      parts.push(
        `<circle cx="${x(i)}" cy="${y(f1)}" r="4" fill="${THIS_MODEL}"/>`,
        `<text x="${x(i)}" y="${y(f1) - 9}" text-anchor="middle" font-weight="600">${f1.toFixed(1)}</text>`,
      );
    });
  });
  const legendX = panels * PANEL.width + 8;
  const entries: Array<[string, string, number]> = [[`${report.model} (this run)`, THIS_MODEL, 3], ...models.map((m): [string, string, number] => [m, colour(m), 1.5])];
  entries.forEach(([name, stroke, strokeWidth], i) => {
    const ly = PANEL.top + i * 20;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 24}" y1="${ly}" y2="${ly}" stroke="${stroke}" stroke-width="${strokeWidth}"/>`,
      `<text x="${legendX + 30}" y="${ly + 4}">${escapeXml(name)}</text>`,
    );
  });
  parts.push(
    `<text x="12" y="${height - 8}" fill="#555">${escapeXml('unknown verdicts count as wrong answers; paper rows are the full sets, this run may be a slice')}</text>`,
    '</svg>',
  );
  return parts.join('\n') + '\n';
}

/** A line through the defined points; a missing value breaks it into segments. */
function polyline(
  values: ReadonlyArray<number | null>,
  x: (i: number) => number,
  y: (f1: number) => number,
  stroke: string,
  strokeWidth: number,
): string {
  const segments: string[][] = [[]];
  values.forEach((value, i) => {
    if (value === null) segments.push([]);
    else segments.at(-1)?.push(`${x(i).toFixed(1)},${y(value).toFixed(1)}`);
  });
  return segments
    .filter((points) => points.length > 0)
    .map((points) =>
      points.length === 1
        ? `<circle cx="${points[0]?.split(',')[0]}" cy="${points[0]?.split(',')[1]}" r="2.5" fill="${stroke}"/>`
        : `<polyline points="${points.join(' ')}" fill="none" stroke="${stroke}" stroke-width="${strokeWidth}" stroke-linejoin="round"/>`,
    )
    .join('\n');
}
