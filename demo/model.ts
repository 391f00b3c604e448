/**
 * Choosing and opening the model: the picker, and the fall-back to the bundled test model when
 * a model cannot be fetched.
 */
import { createGuard, findPreset, listPresets, modelStorage, type BrowserGuardOptions, type Guard } from 'lingoguard';

/** The model the page runs when nothing else can be fetched: built by `npm run models`, served by this site. */
export const OFFLINE_MODEL = 'fixture-consistentguard';

/** How long a model host may take to answer before the page gives up on it. */
const REACH_TIMEOUT_MS = 8_000;

/** Fills the picker: real guard models first, then the bundled test models. */
export function fillPicker(select: HTMLSelectElement): void {
  const groups = [
    { label: 'Guard models (downloaded once from huggingface.co)', test: false },
    { label: 'Test models (bundled, offline; not safeguards)', test: true },
  ];
  for (const { label, test } of groups) {
    const group = document.createElement('optgroup');
    group.label = label;
    // The bench model is large and only for benchmarks; the twins of real exports (`mirrors`)
    // are large too, so the built page does not bundle them: only the dev server offers them.
    const offered = (p: ReturnType<typeof listPresets>[number]) =>
      p.id !== 'fixture-bench' && !(import.meta.env.LINGOGUARD_BUILT_PAGE === true && p.mirrors !== undefined);
    for (const preset of listPresets().filter((p) => p.testModel === test && offered(p))) {
      group.append(new Option(preset.name, preset.id));
    }
    select.append(group);
  }
}

/** Puts `model` in the picker, adding it when it is a custom URL. */
export function selectModel(select: HTMLSelectElement, model: string): void {
  if (![...select.options].some((option) => option.value === model)) select.add(new Option(`Custom: ${model}`, model));
  select.value = model;
}

/** A sentence about the model, from its manifest. */
export function describeModel(model: string): string {
  return findPreset(model)?.description ?? `A model folder of your own: ${model}`;
}

/** The folder a model's files are fetched from, as the worker will request them. */
export function modelFolder(model: string): string {
  const source = findPreset(model)?.source;
  const folder =
    source?.kind === 'hub' ? `https://huggingface.co/${source.repo}/resolve/${source.revision}/`
    : source?.kind === 'url' ? source.url
    : source?.kind === 'local' ? `/${source.path}`
    : model;
  return new URL(folder.endsWith('/') ? folder : `${folder}/`, location.href).href;
}

/**
 * Opens `model`; when it cannot be reached or loaded, opens the offline test model instead and
 * says why. A host that does not answer is given up on after a few seconds, not minutes.
 */
export async function openModel(model: string, options: BrowserGuardOptions): Promise<{ guard: Guard; fallback?: string }> {
  try {
    if (options.endpoint === undefined) await checkReachable(model);
    return { guard: await createGuard({ ...options, model }) };
  } catch (error) {
    if (model === OFFLINE_MODEL && options.endpoint === undefined) throw error;
    const fallback = `Could not load ${model}${options.endpoint ? ` from ${options.endpoint.url}` : ''}: ${error instanceof Error ? error.message : String(error)}`;
    // The bundled model runs in this page: never on the server that just failed.
    const { endpoint: _server, ...inPage } = options;
    return { guard: await createGuard({ ...inPage, model: OFFLINE_MODEL }), fallback };
  }
}

/** Rejects within {@link REACH_TIMEOUT_MS} when another host holds the model and does not answer. */
async function checkReachable(model: string): Promise<void> {
  const folder = modelFolder(model);
  // A model stored whole needs no host; one partly stored does, to resume.
  const stored = (await modelStorage.list()).find((entry) => entry.model === model);
  if (new URL(folder).origin === location.origin || (stored && stored.files.length > 0 && stored.partialBytes === 0)) return;
  const probe = new URL(findPreset(model) ? 'config.json' : 'lingoguard.json', folder);
  let response: Response;
  try {
    response = await fetch(probe, { method: 'HEAD', signal: AbortSignal.timeout(REACH_TIMEOUT_MS) });
  } catch (cause) {
    const why = cause instanceof DOMException && cause.name === 'TimeoutError' ? `no answer within ${REACH_TIMEOUT_MS / 1000} s` : 'offline, or blocked';
    throw new Error(`${probe.host} is not reachable (${why}).`, { cause });
  }
  if (!response.ok) throw new Error(`${probe.href} answered ${response.status}.`);
}
