/**
 * The demo page. It uses lingoguard exactly as an app would: through its public entry point.
 */
import { createGuard, isGuardError, listPresets, type Guard, type Verdict } from 'lingoguard';
import { EXAMPLES } from './examples.js';
import { watchRequests } from './privacy.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const input = $<HTMLTextAreaElement>('input');
const response = $<HTMLTextAreaElement>('response');
const button = $<HTMLButtonElement>('classify');
const live = $<HTMLInputElement>('live');
const select = $<HTMLSelectElement>('model');
const badge = $('verdict');
const trace = $('trace');
const progress = $<HTMLProgressElement>('progress');

const OFFLINE_MODEL = 'fixture-consistentguard';
const params = new URLSearchParams(location.search);
let guard: Guard | undefined;
let running: AbortController | undefined;

watchRequests($('requests'), () => [input.value, response.value]);

for (const preset of listPresets()) {
  select.add(new Option(`${preset.name}${preset.testModel ? ' (test model)' : ''}`, preset.id));
}
for (const example of EXAMPLES) {
  const item = document.createElement('li');
  const choose = document.createElement('button');
  choose.type = 'button';
  choose.textContent = example.title;
  choose.addEventListener('click', () => {
    input.value = example.text;
    response.value = '';
    void run();
  });
  item.append(choose);
  $('examples').append(item);
}

async function load(model: string): Promise<void> {
  button.disabled = true;
  await guard?.dispose();
  guard = undefined;
  select.value = model;
  $('device').textContent = `loading ${model}…`;
  try {
    guard = await createGuard({
      model,
      onProgress: (event) => {
        if (event.status === 'total' && event.total > 0) {
          progress.value = event.loaded / event.total;
          $('progress-text').textContent = `${mb(event.loaded)} of ${mb(event.total)} MB, ${event.files} files`;
        }
      },
    });
  } catch (error) {
    if (model !== OFFLINE_MODEL && isGuardError(error, 'model-load-failed')) {
      banner(`Could not fetch ${model} (offline?). Running the bundled test model instead.`);
      return load(OFFLINE_MODEL);
    }
    $('device').textContent = `failed: ${(error as Error).message}`;
    return;
  }
  progress.value = 1;
  const { info } = guard;
  if (info.testModel) {
    banner(`${info.model} is a test model: it flags a few keywords (hack, bomb, kill, pirater, 炸弹, বোমা, बम…). Pick a real model above for real moderation.`);
  }
  $('device').textContent = `${info.device} (${info.dtype})${info.fallback ? ` — ${info.fallback}` : ''}, loaded in ${info.loadMs} ms`;
  button.disabled = false;
}

async function run(): Promise<void> {
  running?.abort();
  const text = input.value;
  if (!guard || text.trim() === '') return;
  const controller = new AbortController();
  running = controller;
  trace.textContent = '';
  show(undefined);
  const subject = response.value.trim() ? { prompt: text, response: response.value } : text;
  try {
    for await (const event of guard.stream(subject, { signal: controller.signal })) {
      if (event.type === 'reasoning') trace.textContent += event.text;
      else show(event.verdict);
    }
  } catch (error) {
    if (!isGuardError(error, 'aborted')) badge.textContent = `error: ${(error as Error).message}`;
  }
}

function show(verdict: Verdict | undefined): void {
  badge.textContent = verdict?.label ?? '…';
  badge.className = `badge ${verdict?.label ?? ''}`;
  $('score').textContent = verdict?.score === undefined ? '—' : verdict.score.toFixed(2);
  $('language').textContent = verdict ? `${verdict.language.code} (${verdict.language.script}, ${verdict.language.confidence.toFixed(2)})` : '—';
  $('categories').textContent = verdict?.categories.map((c) => `${c.id} ${c.name}`).join(', ') ?? '';
  const t = verdict?.timings;
  $('timings').textContent = t
    ? `verdict in ${t.verdictMs ?? t.totalMs} ms, ${t.generatedTokens ?? 0} tokens, ${t.generatedTokens && t.totalMs ? ((1000 * t.generatedTokens) / t.totalMs).toFixed(1) : '—'} tokens/s`
    : '';
}

function banner(text: string): void {
  const element = $('test-model-banner');
  element.textContent = text;
  element.hidden = false;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

let debounce: ReturnType<typeof setTimeout> | undefined;
for (const box of [input, response]) {
  box.addEventListener('input', () => {
    if (!live.checked) return;
    clearTimeout(debounce);
    running?.abort();
    debounce = setTimeout(() => void run(), 400);
  });
}
button.addEventListener('click', () => void run());
select.addEventListener('change', () => void load(select.value));

void load(params.get('model') ?? OFFLINE_MODEL);
