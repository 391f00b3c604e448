/**
 * The evaluation page: pick a model, a device, the data and a slice; run it with progress;
 * see Table 1, the scores, trace quality, cross-lingual agreement and the chart; download the
 * same files as `lingoguard eval`. The work is done by `eval-run.ts` and `src/eval/`.
 */
import { createGuard, isGuardError, listPresets, type Guard } from 'lingoguard';
import { sortLangs, type BenchmarkFile, type RowProblem } from '../src/eval/data.js';
import { reportNotes, reportTables, type Table } from '../src/eval/report.js';
import type { Prediction } from '../src/eval/run.js';
import { bundledSlice, evaluateInBrowser, parseFiles, pickedFiles, type NamedText } from './eval-run.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const modelSelect = $<HTMLSelectElement>('model');
const deviceSelect = $<HTMLSelectElement>('device');
const limitInput = $<HTMLInputElement>('limit');
const filesInput = $<HTMLInputElement>('files');
const runButton = $<HTMLButtonElement>('run');
const stopButton = $<HTMLButtonElement>('stop');
const progress = $<HTMLProgressElement>('progress');
const status = $('status');

let files: BenchmarkFile[] = [];
let guard: { key: string; guard: Guard } | undefined;
let earlier: Prediction[] = [];
let running: AbortController | undefined;

for (const preset of listPresets().filter((p) => p.id !== 'fixture-bench')) {
  modelSelect.add(new Option(preset.name, preset.id));
}
modelSelect.value = 'fixture-consistentguard';

/** Check boxes for `values`, all checked. */
function fillChoices(container: HTMLElement, name: string, values: readonly string[]): void {
  container.replaceChildren(
    ...values.map((value) => {
      const label = document.createElement('label');
      const box = Object.assign(document.createElement('input'), { type: 'checkbox', name, value, checked: true });
      label.append(box, ` ${value}`);
      return label;
    }),
  );
}

function checked(name: string): string[] {
  return [...document.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)].map((box) => box.value);
}

function showProblems(problems: readonly RowProblem[], ignored: readonly string[]): void {
  const lines = [
    ...ignored.map((name) => `ignored ${name}: not named <set>_<lang>.jsonl`),
    ...problems.slice(0, 20).map((p) => `skipped ${p.source}:${p.line}: ${p.message}`),
    ...(problems.length > 20 ? [`…and ${problems.length - 20} more bad rows`] : []),
  ];
  $('problems').textContent = lines.join('\n');
}

async function useData(texts: Promise<NamedText[]>): Promise<void> {
  const parsed = parseFiles(await texts);
  files = parsed.files;
  showProblems(files.flatMap((f) => f.problems), parsed.ignored);
  fillChoices($('sets'), 'set', [...new Set(files.map((f) => f.dataset))]);
  fillChoices($('langs'), 'lang', sortLangs(files.map((f) => f.lang)));
  earlier = [];
  runButton.disabled = files.length === 0;
}

for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="source"]')) {
  radio.addEventListener('change', () => void useData(radio.value === 'bundled' ? bundledSlice() : pickedFiles(filesInput.files ?? [])));
}
filesInput.addEventListener('change', () => {
  const radio = document.querySelector<HTMLInputElement>('input[name="source"][value="files"]');
  if (radio) radio.checked = true;
  void useData(pickedFiles(filesInput.files ?? []));
});

/** The guard for the chosen model and device, reused while they stay the same. */
async function openGuard(): Promise<Guard> {
  const key = `${modelSelect.value}@${deviceSelect.value}`;
  if (guard?.key === key) return guard.guard;
  await guard?.guard.dispose();
  guard = undefined;
  earlier = [];
  status.textContent = `loading ${modelSelect.value}…`;
  const device = deviceSelect.value as 'auto' | 'webgpu' | 'wasm';
  const opened = await createGuard({
    model: modelSelect.value,
    device,
    onProgress: (event) => {
      if (event.status === 'total' && event.total > 0) {
        status.textContent = `loading ${modelSelect.value}: ${Math.round((100 * event.loaded) / event.total)}%`;
      }
    },
  });
  guard = { key, guard: opened };
  return opened;
}

function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '…';
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function renderTable(table: Table): HTMLTableElement {
  const element = document.createElement('table');
  element.createCaption().textContent = table.title;
  const head = element.createTHead().insertRow();
  for (const title of table.header) head.append(Object.assign(document.createElement('th'), { textContent: title }));
  const body = element.createTBody();
  table.rows.forEach((row, i) => {
    const tr = body.insertRow();
    if (i === table.emphasize) tr.className = 'emphasize';
    row.forEach((text, j) => {
      const cell = tr.insertCell();
      cell.textContent = text;
      if (j < 2 && !/^[\d.%—]+$/.test(text)) cell.className = 'text';
    });
  });
  return element;
}

function download(name: string, text: string, type: string): HTMLAnchorElement {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = name;
  link.textContent = name;
  return link;
}

async function run(): Promise<void> {
  running?.abort();
  const controller = new AbortController();
  running = controller;
  runButton.disabled = true;
  stopButton.disabled = false;
  try {
    const current = await openGuard();
    const { info } = current;
    const where = `${info.model} on ${info.device} (${info.dtype})${info.fallback ? `, ${info.fallback}` : ''}`;
    const limit = Number(limitInput.value);
    const outcome = await evaluateInBrowser({
      guard: current,
      files,
      selection: { sets: checked('set'), langs: checked('lang'), ...(limit > 0 ? { limit } : {}) },
      earlier,
      signal: controller.signal,
      onProgress: (p) => {
        progress.max = Math.max(1, p.total);
        progress.value = p.done;
        const last = p.last ? ` · ${p.last.dataset}/${p.last.lang}/${p.last.id}: ${p.last.label}` : '';
        status.textContent = `${where}: ${p.done}/${p.total} (${p.skipped} done earlier) · ${p.rate.toFixed(1)} items/s · ETA ${formatDuration(p.etaMs)}${last}`;
      },
    });
    earlier = outcome.predictions;
    const { judged, skipped, interrupted } = outcome.result;
    status.textContent = `${where}: ${interrupted ? 'stopped' : 'done'}; judged ${judged}, skipped ${skipped} done earlier.`;
    $('chart').innerHTML = outcome.svg; // our own markup; every text in it is escaped
    $('tables').replaceChildren(...reportTables(outcome.report).map(renderTable));
    $('notes').replaceChildren(...reportNotes(outcome.report).map((note) => Object.assign(document.createElement('li'), { textContent: note.replace(/`/g, '') })));
    $('downloads').replaceChildren(
      download('predictions.jsonl', outcome.predictions.map((p) => `${JSON.stringify(p)}\n`).join(''), 'application/jsonl'),
      download('table.md', outcome.markdown, 'text/markdown'),
      download('table.csv', outcome.csv, 'text/csv'),
      download('chart.svg', outcome.svg, 'image/svg+xml'),
    );
  } catch (error) {
    status.textContent = `failed: ${isGuardError(error) ? `${error.code}: ${error.message}` : String(error)}`;
  } finally {
    running = undefined;
    runButton.disabled = files.length === 0;
    stopButton.disabled = true;
  }
}

runButton.addEventListener('click', () => void run());
stopButton.addEventListener('click', () => running?.abort());
runButton.disabled = true;
void useData(bundledSlice());
