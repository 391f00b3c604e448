/**
 * The demo page. It uses lingoguard the way an app would: the public entry point `lingoguard`,
 * and a worker module of its own built on `lingoguard/worker` (see worker.ts).
 *
 * URL parameters: `?model=<preset id or model folder URL>`, `?device=auto|webgpu|wasm`.
 */
import { isGuardError, modelStorage, type Guard, type GuardInfo, type ProgressEvent, type Verdict } from 'lingoguard';
import { EXAMPLES } from './examples.js';
import { describeModel, fillPicker, OFFLINE_MODEL, openModel, selectModel } from './model.js';
import { privacyPanel } from './privacy.js';
import { DownloadTracker, showStorage } from './storage.js';
import { watchPanel } from './watch-panel.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const input = $<HTMLTextAreaElement>('input');
const response = $<HTMLTextAreaElement>('response');
const classifyButton = $<HTMLButtonElement>('classify');
const live = $<HTMLInputElement>('live');
const select = $<HTMLSelectElement>('model-select');
const status = $('status');
const trace = $('trace');
const progress = $<HTMLProgressElement>('progress');

const params = new URLSearchParams(location.search);
const device = (['webgpu', 'wasm'] as const).find((d) => d === params.get('device')) ?? 'auto';
/** `?endpoint=http://gpu-box:8000/v1`: the guard runs on that inference server (see the README's recipes). */
const endpoint = params.get('endpoint') ?? undefined;
const privacy = privacyPanel({ list: $('requests'), summary: $('privacy-summary'), policy: $('policy') });
const watchStart = $<HTMLButtonElement>('watch-start');
const streamed = watchPanel({ start: watchStart, answer: $('answer'), status: $('watch-status') }, () => guard);
const persistButton = $<HTMLButtonElement>('persist');

/** Waits after the last keystroke before classifying as you type. */
const TYPING_PAUSE_MS = 400;

let guard: Guard | undefined;
let running: AbortController | undefined;
let loads = 0;
let cancelled = 0;
let download = new DownloadTracker();

async function load(model: string): Promise<void> {
  const ticket = ++loads;
  running?.abort();
  classifyButton.disabled = true;
  watchStart.disabled = true;
  streamed.stop();
  const previous = guard;
  guard = undefined;
  await previous?.dispose();
  rememberInUrl(model);
  selectModel(select, model);
  setText('model-about', describeModel(model));
  setText('device', `loading ${model}…`);
  setText('progress-text', '');
  progress.value = 0;
  download = new DownloadTracker();
  setStatus('Loading the model…');
  void refreshStorage(model);
  let opened: Awaited<ReturnType<typeof openModel>>;
  try {
    opened = await openModel(model, { device, onProgress, createWorker, ...(endpoint === undefined ? {} : { endpoint: { url: endpoint } }) });
  } catch (error) {
    if (ticket !== loads) return;
    setText('device', 'nothing: the model failed to load');
    setStatus(`The model failed to load: ${messageOf(error)}`);
    return;
  }
  if (ticket !== loads) return void opened.guard.dispose(); // another model was picked meanwhile
  guard = opened.guard;
  const { info } = guard;
  privacy.runsOn(info.remote);
  selectModel(select, info.model);
  showModel(info, opened.fallback);
  classifyButton.disabled = false;
  watchStart.disabled = false;
  setStatus('Ready: type a message, or pick an example.');
  void refreshStorage(info.model);
  if (input.value.trim()) void run();
}

function createWorker(): Worker {
  // Kept literal so that Vite bundles the worker.
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'lingoguard' });
  privacy.watchWorker(worker);
  return worker;
}

function onProgress(event: ProgressEvent): void {
  if (event.status === 'ready') progress.value = 1;
  else if (download.add(event)) {
    progress.value = download.fraction;
    setText('progress-text', download.describe(false));
  }
}

function showModel(info: GuardInfo, fallback: string | undefined): void {
  setText('device', `${info.device} · ${info.dtype}${info.fallback ? ` (fell back: ${info.fallback})` : ''}`);
  const what = download.describe(true);
  setText('progress-text', `${what ? `${what}. ` : ''}Loaded in ${info.loadMs} ms, warm-up included.`);
  setText('model-about', describeModel(info.model));
  const notes = [
    fallback && `${fallback} Running the bundled test model instead.`,
    info.testModel &&
      `${info.model} is a test model: a keyword matcher built for lingoguard’s tests (it flags words such as hack, bomb, kill, pirater, 炸弹, 爆弾, বোমা, बम), not a safeguard. ` +
      'To moderate for real, pick a guard model under “4. Model”: it downloads once from huggingface.co, then runs offline from this browser’s storage.',
  ].filter(Boolean);
  $('banner').textContent = notes.join(' ');
  $('banner').hidden = notes.length === 0;
}

/** Shows what this browser stores of `model` and of every model, and the space. */
function refreshStorage(model: string): Promise<void> {
  const elements = { stored: $('stored'), space: $('space'), persisted: $('persisted'), persistButton, list: $<HTMLUListElement>('stored-models') };
  return showStorage(elements, model, () => void refreshStorage(model));
}

async function run(): Promise<void> {
  running?.abort();
  const prompt = input.value;
  if (!guard || !prompt.trim()) return showVerdict(undefined, '—');
  const controller = new AbortController();
  running = controller;
  const subject = response.value.trim() ? { prompt, response: response.value } : prompt;
  privacy.checked(prompt);
  privacy.checked(response.value);
  const pane = tracePane(guard.info);
  showVerdict(undefined, '…');
  setStatus('Checking…');
  try {
    // `full`: the demo shows the reasoning as it streams, which `auto` (the library's default)
    // skips for inputs the model is sure about.
    for await (const event of guard.stream(subject, { mode: 'full', signal: controller.signal })) {
      if (controller.signal.aborted) continue; // a newer call owns the pane now
      if (event.type === 'reasoning') pane.add(event.text);
      else {
        pane.show(event.verdict.reasoning);
        showVerdict(event.verdict);
      }
    }
    setStatus('Done.');
  } catch (error) {
    if (isGuardError(error, 'aborted')) {
      status.dataset.cancelled = String(++cancelled);
      setStatus('Stopped checking the previous text: it changed.');
    } else {
      showVerdict(undefined, 'unknown');
      setStatus(`No verdict: ${messageOf(error)}`);
    }
  } finally {
    if (running === controller) running = undefined;
  }
}

/**
 * The trace pane for one call. The stream's `reasoning` events are the trace's prose only (the
 * library holds back tags and answer lines), shown as text, never HTML, appended while it can
 * so that a reader's selection stays put.
 */
function tracePane(info: GuardInfo) {
  let shown = '';
  trace.textContent = '';
  trace.dataset.placeholder = info.reasoningModel ? 'The model’s reasoning appears here as it writes it.' : 'This model gives its verdict without a reasoning trace.';
  const show = (text: string) => {
    if (text === shown) return;
    // Follow the newest text unless the reader has scrolled up to read.
    const following = trace.scrollTop + trace.clientHeight >= trace.scrollHeight - 8;
    if (text.startsWith(shown)) trace.append(text.slice(shown.length));
    else trace.textContent = text;
    shown = text;
    if (following) trace.scrollTop = trace.scrollHeight;
  };
  return {
    add: (delta: string) => show(shown + delta),
    /** The verdict's own reasoning: the last word, also for a text judged in several windows. */
    show,
  };
}

function showVerdict(verdict: Verdict | undefined, pending = '—'): void {
  const badge = $('verdict');
  badge.textContent = verdict?.label ?? pending;
  badge.className = `badge ${verdict?.label ?? (pending === 'unknown' ? 'unknown' : '')}`;
  const blocked = $('blocked');
  blocked.hidden = verdict?.blocked === undefined;
  blocked.textContent = verdict?.blocked ? 'blocked' : 'allowed';
  blocked.className = `badge outline ${verdict?.blocked ? 'harmful' : 'unharmful'}`;
  blocked.title = 'What the guard’s fail-closed policy does with this verdict';
  setText('score', verdict?.score?.toFixed(2) ?? (verdict ? 'n/a' : '—'));
  $('score').title = 'The probability the model gave to “harmful” (not a calibrated risk)';
  const language = verdict?.language;
  setText('language', language ? `${languageName(language.code)} (${language.code})` : '—');
  $('language').title = language ? `script ${language.script}, confidence ${language.confidence.toFixed(2)}` : '';
  showCategories(verdict);
  const assessed = verdict?.response;
  $('response-fact').hidden = !assessed;
  setText('response-verdict', assessed ? `${assessed.label}${assessed.refusal === undefined ? '' : assessed.refusal ? ', a refusal' : ', complies'}` : '');
  $('problem-fact').hidden = !verdict?.problem;
  setText('problem', verdict?.problem ?? '');
  showTimings(verdict);
}

/** One chip per category: its id and its name. */
function showCategories(verdict: Verdict | undefined): void {
  const chips = verdict?.categories.map((category) => {
    const chip = document.createElement('li');
    chip.className = 'chip';
    chip.title = category.common;
    const id = document.createElement('span');
    id.className = 'chip-id';
    id.textContent = category.id;
    chip.append(id, ` ${category.name}`);
    return chip;
  });
  const none = document.createElement('li');
  none.className = 'chip empty';
  none.textContent = verdict ? 'none named' : '—';
  $('categories').replaceChildren(...(chips?.length ? chips : [none]));
}

function showTimings(verdict: Verdict | undefined): void {
  const t = verdict?.timings;
  const decodeMs = t && t.totalMs - (t.firstTokenMs ?? 0);
  const facts: [string, string, string][] = t
    ? [
        ['load', 'Model load', `${guard?.info.loadMs ?? '?'} ms`],
        ['verdict', 'Verdict after', `${t.verdictMs ?? t.totalMs} ms`],
        ['first-token', 'First token', `${t.firstTokenMs ?? '?'} ms`],
        ['prompt', 'Prompt tokens', `${t.promptTokens ?? '?'}${t.cachedTokens ? ` (${t.cachedTokens} cached)` : ''}`],
        ['generated', 'Tokens written', `${t.generatedTokens ?? '?'}`],
        ...(t.generatedTokens && decodeMs ? [['rate', 'Speed', `${((1000 * t.generatedTokens) / decodeMs).toFixed(0)} tokens/s`] as [string, string, string]] : []),
      ]
    : [];
  $('timings').replaceChildren(...facts.map(([key, term, value]) => {
    const group = document.createElement('div');
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = term;
    dd.textContent = value;
    dd.dataset.timing = key;
    group.append(dt, dd);
    return group;
  }));
}

function languageName(code: string): string {
  if (code === 'und') return 'undetermined';
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

function rememberInUrl(model: string): void {
  const url = new URL(location.href);
  url.searchParams.set('model', model);
  history.replaceState(null, '', url);
}

const setText = (id: string, text: string) => ($(id).textContent = text);
const setStatus = (text: string) => (status.textContent = text);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

for (const example of EXAMPLES) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = example.title;
  button.addEventListener('click', () => {
    input.value = example.text;
    response.value = '';
    void run();
  });
  const item = document.createElement('li');
  item.append(button);
  $('examples').append(item);
}

let typing: ReturnType<typeof setTimeout> | undefined;
for (const box of [input, response]) {
  box.addEventListener('input', () => {
    if (!live.checked) return;
    clearTimeout(typing);
    running?.abort(); // a verdict on the old text is no use any more
    showVerdict(undefined, '…');
    typing = setTimeout(() => void run(), TYPING_PAUSE_MS);
  });
}
classifyButton.addEventListener('click', () => {
  // The check asked for now replaces the one the last keystroke scheduled (which would rerun it).
  clearTimeout(typing);
  void run();
});
select.addEventListener('change', () => void load(select.value));
$('custom').addEventListener('submit', (event) => {
  event.preventDefault();
  const url = $<HTMLInputElement>('custom-url').value.trim();
  if (url) void load(url);
});
persistButton.addEventListener('click', async () => {
  // A user gesture: where the browser asks its user (Firefox), this is when it should.
  const granted = await modelStorage.persist();
  await refreshStorage(guard?.info.model ?? select.value);
  // Chromium decides by itself (how much the site is used, bookmarked, installed): say so.
  if (!granted) setText('persisted', 'no: the browser declined for now (it grants it to sites used often, bookmarked or installed)');
});

fillPicker(select);
void load(params.get('model') ?? OFFLINE_MODEL);
