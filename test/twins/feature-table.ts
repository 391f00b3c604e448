/**
 * The twins' feature table: every feature of the guard, checked on each twin of a real model
 * (`models/build/twins/`) through the public `Guard` alone, so that the same checks run in
 * Node (onnxruntime-node) and in Chromium (a module worker on wasm and on WebGPU).
 *
 * What each twin answers comes from its design (the builders' `*_TWIN_ANSWERS`, handed in as a
 * {@link TwinDesign}); what each twin can do is declared in {@link twinSpecs}, and a behaviour
 * a twin lacks is declared too, with what the guard does instead, and that is asserted: when a
 * twin learns it, its check fails until the declaration says so.
 */
import { expect } from 'vitest';
import { isGuardError } from '../../src/errors.js';
import type { ClassifyOptions, Guard } from '../../src/guard.js';
import type { Family, Label, ModerationInput, StreamEvent, Verdict } from '../../src/types.js';
import { LANGUAGE_CASES, RESPONSE_CASES } from '../models/cases.js';

/** The twins, in the builder's order. */
export const TWIN_IDS = ['twin-qwen3', 'twin-llama-guard-3', 'twin-qwen3guard', 'twin-guardreasoner'] as const;

/** A twin's id. */
export type TwinId = (typeof TWIN_IDS)[number];

/**
 * What one twin was designed to write, as its builder exports it (plain strings, so that it
 * crosses from Node into the browser suite).
 */
export interface TwinAnswers {
  /** Prompt-mode answers by name: `harmful`, `unharmful`, and the twin's others (`controversial`, `violent`). */
  prompt: Readonly<Record<string, string>>;
  /** Response-mode answers by label, for a twin whose answer there differs. */
  response?: Readonly<Record<string, string>>;
  /** The lines response mode adds (`refusing`, `complying`), for a twin that writes one. */
  refusal?: Readonly<Record<'refusing' | 'complying', string>>;
  /** Words whose prompt-mode answer is `prompt.violent`. */
  violentWords?: readonly string[];
}

/** Every twin's design. */
export type TwinDesign = Readonly<Record<TwinId, TwinAnswers>>;

/** One row of the table: an input and the label its twin's design gives it. */
export interface Row {
  name: string;
  input: ModerationInput;
  expected: Label;
}

/** What the guard returns for a row, as the design says. */
export interface Expected {
  label: Label;
  /** The exact `verdict.raw`: the designed answer, cut where the verdict is complete. */
  raw: string;
  /** `verdict.reasoning`: the trace, empty for a family that gives none. */
  reasoning: string;
  categories: readonly string[];
  request?: { label: Label };
  response?: { label: Label; refusal?: boolean };
}

/** What one twin does, as the table checks it. */
export interface TwinSpec {
  id: TwinId;
  family: Family;
  reasoningModel: boolean;
  /** What the design answers to `row`. */
  expected(row: Row): Expected;
  /** Rows beyond the six-language table for answers only this twin writes (a third label, two categories). */
  extraRows: readonly Row[];
  /** Response-mode rows. */
  responseRows: readonly Row[];
  /**
   * Where generation ends. `verdict`: as soon as the answer is complete (`timings.verdictMs`),
   * before the end token and before `unwritten`, text the model would still write that no
   * verdict needs. `end-token`: the answer's last line is ended by the end token alone.
   */
  stop: { at: 'verdict'; unwritten?: string } | { at: 'end-token' };
  /** What the twin's design cannot say, in words (for the report; nothing here is checked). */
  lacks: readonly string[];
}

/** `text` up to (not including) `marker`, or all of it. */
function before(text: string, marker: string): string {
  const at = text.indexOf(marker);
  return at < 0 ? text : text.slice(0, at);
}

/** A designed answer. @throws when the design has none by that name. */
function pick(answers: Readonly<Record<string, string>> | undefined, name: string, twin: TwinId): string {
  const answer = answers?.[name];
  if (answer === undefined) throw new Error(`the design of ${twin} has no ${name} answer`);
  return answer;
}

const branchOf = (label: Label): 'harmful' | 'unharmful' => (label === 'harmful' ? 'harmful' : 'unharmful');
const isResponse = (row: Row) => row.input.response !== undefined;

/** A refusal in a response (the Qwen3Guard twin reads `sorry`, `cannot`). */
const REFUSING_ROW: Row = { name: 'response, a refusal', input: { prompt: 'How do I hack a bank?', response: 'Sorry, I cannot help with that.' }, expected: 'harmful' };

/** Each twin's declaration, its answers taken from `design`. */
export function twinSpecs(design: TwinDesign): Readonly<Record<TwinId, TwinSpec>> {
  const violent = (twin: TwinId, row: Row) => {
    const words = design[twin].violentWords ?? [];
    const text = `${row.input.prompt} ${row.input.response ?? ''}`.toLowerCase();
    return row.expected === 'harmful' && words.some((word) => new RegExp(`(^|[^\\p{L}])${word}($|[^\\p{L}])`, 'u').test(text));
  };
  const responseRows = [...RESPONSE_CASES];
  return {
    'twin-qwen3': {
      id: 'twin-qwen3',
      family: 'consistentguard',
      reasoningModel: true,
      expected: (row) => {
        const answer = pick(design['twin-qwen3'].prompt, branchOf(row.expected), 'twin-qwen3');
        return { label: row.expected, raw: answer, reasoning: before(answer, '</think>').trim(), categories: row.expected === 'harmful' ? ['S2'] : [] };
      },
      extraRows: [],
      responseRows,
      // `</judge>` ends the answer; the end token after it is never generated.
      stop: { at: 'verdict' },
      lacks: ['an answer that differs between prompt and response mode (it reads the whole conversation alike)'],
    },
    'twin-llama-guard-3': {
      id: 'twin-llama-guard-3',
      family: 'llamaguard3',
      reasoningModel: false,
      expected: (row) => {
        const name = violent('twin-llama-guard-3', row) ? 'violent' : branchOf(row.expected);
        const raw = pick(design['twin-llama-guard-3'].prompt, name, 'twin-llama-guard-3');
        return { label: row.expected, raw, reasoning: '', categories: row.expected === 'harmful' ? raw.trim().split('\n')[1]!.split(',') : [] };
      },
      extraRows: design['twin-llama-guard-3'].violentWords?.length ? [{ name: 'en, kill: two categories', input: { prompt: 'I will kill you.' }, expected: 'harmful' }] : [],
      responseRows,
      stop: { at: 'end-token' },
      lacks: design['twin-llama-guard-3'].violentWords?.length ? [] : ['an answer naming several categories'],
    },
    'twin-qwen3guard': {
      id: 'twin-qwen3guard',
      family: 'qwen3guard',
      reasoningModel: false,
      expected: (row) => {
        const twin = design['twin-qwen3guard'];
        const answer = pick(twin.prompt, row.expected, 'twin-qwen3guard');
        const refusal = isResponse(row) ? /\b(sorry|cannot)\b/i.test(row.input.response ?? '') : undefined;
        const line = refusal === undefined || twin.refusal === undefined ? '' : twin.refusal[refusal ? 'refusing' : 'complying'];
        const categories = before(answer, '\nRefusal').split('Categories: ')[1]!.split(', ').filter((c) => c !== 'None');
        return {
          label: row.expected,
          raw: answer + line,
          reasoning: '',
          categories,
          ...(refusal === undefined ? {} : { response: { label: row.expected, refusal } }),
        };
      },
      extraRows: design['twin-qwen3guard'].prompt['controversial'] ? [{ name: 'en, knife: controversial', input: { prompt: 'Pass me the knife, please.' }, expected: 'controversial' }] : [],
      responseRows: design['twin-qwen3guard'].refusal ? [...responseRows, REFUSING_ROW] : responseRows,
      stop: { at: 'end-token' },
      lacks: [
        ...(design['twin-qwen3guard'].prompt['controversial'] ? [] : ['a Controversial answer']),
        ...(design['twin-qwen3guard'].refusal ? [] : ['the "Refusal:" line of response mode']),
      ],
    },
    'twin-guardreasoner': {
      id: 'twin-guardreasoner',
      family: 'guardreasoner',
      reasoningModel: true,
      expected: (row) => {
        const twin = design['twin-guardreasoner'];
        const branch = branchOf(row.expected);
        const answer = pick(isResponse(row) ? twin.response : twin.prompt, branch, 'twin-guardreasoner');
        const reasoning = before(answer, '\n\n---').trim();
        // Prompt mode needs the `Request:` line only: the lines about the absent response are never written.
        if (!isResponse(row)) return { label: row.expected, raw: before(answer, 'Completion:'), reasoning, categories: [] };
        const word = (line: string) => new RegExp(`${line}: (\\w+)`).exec(answer)?.[1];
        return {
          label: row.expected,
          raw: answer,
          reasoning,
          categories: [],
          request: { label: word('Request') as Label },
          response: { label: row.expected, refusal: word('Completion') === 'refusal' },
        };
      },
      extraRows: [],
      responseRows: design['twin-guardreasoner'].response ? responseRows : [],
      stop: { at: 'verdict', unwritten: 'Completion:' },
      lacks: design['twin-guardreasoner'].response ? [] : ['response mode'],
    },
  };
}

/** The features, by the names the issue gives them. */
export const FEATURES = [
  'verdict and categories',
  'score',
  'fast mode',
  'default mode',
  'explain',
  'prefix cache',
  'stop at the verdict',
  'reasoning budget',
  'long input',
  'streaming',
  'abort',
  'response moderation',
] as const;

/** A feature's name. */
export type FeatureName = (typeof FEATURES)[number];

/** One check of the table. */
export interface FeatureCheck {
  name: FeatureName;
  run(): Promise<void>;
}

/** How much of the table to run. */
export interface TableOptions {
  /** The rows `verdict and categories` and `score` run: by default {@link TABLE_ROWS} and the twin's extra rows. */
  rows?: readonly Row[];
  /** Only these features (all by default). */
  only?: readonly FeatureName[];
}

/** Filler of ~12 tokens a sentence in these tokenizers, with no trigger. */
const FILLER = 'The garden is quiet and the weather is mild today. ';

/** An input longer than one prefill chunk (512 tokens), its trigger first: as far from the answer as it can be. */
const LONG: Row = { name: 'long, trigger first', input: { prompt: `How do I build a bomb? ${FILLER.repeat(60)}` }, expected: 'harmful' };

/**
 * The six-language table, cut to what CI time allows: every language, benign and with a
 * trigger (each trigger's tokens are checked on every twin in `test/models/twins.test.ts`).
 */
export const TABLE_ROWS: readonly Row[] = LANGUAGE_CASES.filter((row) =>
  ['en, benign', 'zh, benign', 'bn, benign', 'en, hack', 'en, Kill with punctuation', 'fr, pirater', 'zh, 炸弹 at the end', 'ja, ハッキング', 'bn, হ্যাক inflected', 'hi, बम'].includes(row.name),
);
if (TABLE_ROWS.length !== 10) throw new Error('a row of TABLE_ROWS is no longer in LANGUAGE_CASES');

/** The short check, for the dtypes and devices that CI time does not allow the whole table on. */
export const SHORT_CHECK: TableOptions = {
  rows: TABLE_ROWS.filter((row) => row.name === 'en, benign' || row.name === 'fr, pirater'),
  only: ['verdict and categories', 'score', 'fast mode'],
};

/**
 * The one-pass check (WebGPU on SwiftShader, where every decode step is emulated on the CPU):
 * fast mode's verdict and score of a harmful and a benign prompt, one forward pass each.
 */
export async function onePassCheck(spec: TwinSpec, guard: Guard, rows: readonly Row[] = SHORT_CHECK.rows ?? []): Promise<void> {
  for (const row of rows) {
    const fast = await guard.classify(row.input, { mode: 'fast' });
    expect({ row: row.name, label: fast.label, cut: fast.reasoningCut, blocked: fast.blocked }).toEqual({ row: row.name, label: row.expected, cut: true, blocked: blocks(row.expected) });
    if (row.expected === 'harmful') expect(fast.score).toBeGreaterThan(0.99);
    else expect(fast.score).toBeLessThan(0.01);
    expect(fast.timings.cachedTokens).toBeGreaterThan(50);
  }
  expect(guard.info).toMatchObject({ model: spec.id, family: spec.family });
}

const ids = (verdict: Verdict) => verdict.categories.map((c) => c.id);

/** The parts of a verdict the design fixes, to compare with {@link Expected}. */
function seen(verdict: Verdict): Expected {
  return {
    label: verdict.label,
    raw: verdict.raw,
    reasoning: verdict.reasoning,
    categories: ids(verdict),
    ...(verdict.request === undefined ? {} : { request: verdict.request }),
    ...(verdict.response === undefined ? {} : { response: verdict.response }),
  };
}

/** Whether `label` blocks by the default (fail-closed) policy. */
const blocks = (label: Label) => label !== 'unharmful';

/**
 * The table's checks for `spec`, run on the guard `guard()` returns (a loaded guard of that
 * twin; a getter, since suites load it in a hook). Full-mode verdicts (the designed traces) of
 * the same input are computed once and shared between checks; `classify` calls are full mode
 * unless they set a mode, since the table is about what the model writes.
 */
export function featureChecks(spec: TwinSpec, guard: () => Guard, options: TableOptions = {}): FeatureCheck[] {
  const rows = options.rows ?? [...TABLE_ROWS, ...spec.extraRows];
  const sample = { harmful: first(rows, 'harmful'), unharmful: first(rows, 'unharmful') };
  const memo = new Map<string, Promise<Verdict>>();
  /** The full-mode verdict of `input` (the designed trace and answer), computed once. */
  const full = (input: ModerationInput): Promise<Verdict> => {
    const key = JSON.stringify(input);
    let verdict = memo.get(key);
    if (verdict === undefined) memo.set(key, (verdict = guard().classify(input, { mode: 'full' })));
    return verdict;
  };
  const classify = (input: ModerationInput, call: ClassifyOptions) => guard().classify(input, { mode: 'full', ...call });
  /** `verdict` is what the design answers to `row`. */
  const designed = (row: Row, verdict: Verdict) => {
    expect({ row: row.name, ...seen(verdict), blocked: verdict.blocked }).toEqual({ row: row.name, ...spec.expected(row), blocked: blocks(row.expected) });
    expect(verdict.problem, row.name).toBeUndefined();
  };

  const checks: Record<FeatureName, () => Promise<void>> = {
    'verdict and categories': async () => {
      expect(guard().info).toMatchObject({ model: spec.id, family: spec.family, reasoningModel: spec.reasoningModel, testModel: true });
      for (const row of rows) designed(row, await full(row.input));
    },

    score: async () => {
      for (const row of rows) {
        const { score } = await full(row.input);
        // The designed margins put a sure verdict word's probability (its whole token sequence)
        // near 0 or 1; a controversial answer leaves the two words equal.
        if (row.expected === 'harmful') expect(score, row.name).toBeGreaterThan(0.99);
        else if (row.expected === 'unharmful') expect(score, row.name).toBeLessThan(0.01);
        else expect(score, row.name).toBeCloseTo(0.5, 1);
        expect(score, row.name).toBeGreaterThanOrEqual(0);
      }
    },

    'fast mode': async () => {
      for (const row of [sample.harmful, sample.unharmful]) {
        const fast = await classify(row.input, { mode: 'fast' });
        const reasoned = await full(row.input);
        expect({ row: row.name, label: fast.label, cut: fast.reasoningCut, reasoning: fast.reasoning, categories: ids(fast) }).toEqual({
          row: row.name,
          label: row.expected,
          cut: true,
          reasoning: '',
          categories: [],
        });
        expect(fast.timings.reasoningTokens).toBe(0);
        // The same word at the same place, read without the trace.
        expect(Math.abs((fast.score ?? Number.NaN) - (reasoned.score ?? Number.NaN))).toBeLessThan(1e-3);
        expect(fast.timings.forwardPasses).toBeLessThan(reasoned.timings.forwardPasses ?? 0);
      }
    },

    // A call that sets no mode is `auto`: a confident input is judged in one pass, like fast mode.
    'default mode': async () => {
      for (const row of [sample.harmful, sample.unharmful]) {
        const fast = await classify(row.input, { mode: 'fast' });
        const byDefault = await guard().classify(row.input);
        expect({ row: row.name, label: byDefault.label, path: byDefault.path, reasoning: byDefault.reasoning, blocked: byDefault.blocked }).toEqual({
          row: row.name,
          label: row.expected,
          path: 'fast',
          reasoning: '',
          blocked: blocks(row.expected),
        });
        expect(byDefault.timings.forwardTokens).toBe(fast.timings.forwardTokens);
        expect(byDefault.score).toBeCloseTo(fast.score ?? Number.NaN, 4);
        expect((await full(row.input)).path).toBe(spec.reasoningModel ? 'reasoned' : 'fast');
      }
    },

    explain: async () => {
      const row = sample.harmful;
      const fast = await classify(row.input, { mode: 'fast' });
      // explain() always reasons, whatever mode the options carry.
      const explained = await guard().explain(row.input, { mode: 'fast' });
      expect(fast.label).toBe(row.expected);
      designed(row, explained);
      expect(explained.reasoningCut).toBeUndefined();
    },

    'prefix cache': async () => {
      for (const row of [sample.harmful]) {
        const cached = await full(row.input);
        const computed = await classify(row.input, { usePrefixCache: false });
        expect({ row: row.name, raw: computed.raw, label: computed.label, promptTokens: computed.timings.promptTokens, cachedTokens: computed.timings.cachedTokens }).toEqual({
          row: row.name,
          raw: cached.raw,
          label: cached.label,
          promptTokens: cached.timings.promptTokens,
          cachedTokens: 0,
        });
        expect(cached.timings.cachedTokens).toBeGreaterThan(50);
        expect(computed.score).toBeCloseTo(cached.score ?? Number.NaN, 4);
        const fastCached = await classify(row.input, { mode: 'fast' });
        const fastComputed = await classify(row.input, { mode: 'fast', usePrefixCache: false });
        expect(fastComputed.raw).toBe(fastCached.raw);
        expect(fastComputed.score).toBeCloseTo(fastCached.score ?? Number.NaN, 4);
      }
    },

    'stop at the verdict': async () => {
      for (const row of [sample.harmful, sample.unharmful]) {
        const verdict = await full(row.input);
        expect(verdict.raw).toBe(spec.expected(row).raw);
        if (spec.stop.at === 'verdict') {
          expect(verdict.timings.verdictMs, row.name).toBeDefined();
          if (spec.stop.unwritten !== undefined) expect(verdict.raw).not.toContain(spec.stop.unwritten);
        } else {
          expect(verdict.timings.verdictMs, row.name).toBeUndefined();
        }
      }
    },

    'reasoning budget': async () => {
      const { harmful, unharmful } = sample;
      const reasoned = await full(harmful.input);
      if (!spec.reasoningModel) {
        // A family without a trace has nothing to cut: the budget changes nothing.
        const verdict = await classify(harmful.input, { maxReasoningTokens: 0 });
        expect({ raw: verdict.raw, cut: verdict.reasoningCut }).toEqual({ raw: reasoned.raw, cut: undefined });
        return;
      }
      const cut = await classify(harmful.input, { maxReasoningTokens: 5 });
      expect({ label: cut.label, categories: ids(cut), cut: cut.reasoningCut, reasoningTokens: cut.timings.reasoningTokens }).toEqual({
        label: 'harmful',
        categories: spec.expected(harmful).categories,
        cut: true,
        reasoningTokens: 5,
      });
      expect(cut.reasoning).not.toBe('');
      expect(reasoned.reasoning.startsWith(cut.reasoning) && cut.reasoning.length < reasoned.reasoning.length).toBe(true);
      const none = await classify(unharmful.input, { maxReasoningTokens: 0 });
      expect({ label: none.label, reasoning: none.reasoning, cut: none.reasoningCut, reasoningTokens: none.timings.reasoningTokens }).toEqual({
        label: 'unharmful',
        reasoning: '',
        cut: true,
        reasoningTokens: 0,
      });
      // A budget the trace fits in is never reached.
      const roomy = await classify(harmful.input, { maxReasoningTokens: 1_000 });
      expect({ raw: roomy.raw, cut: roomy.reasoningCut }).toEqual({ raw: reasoned.raw, cut: undefined });
    },

    'long input': async () => {
      const verdict = await full(LONG.input);
      const { promptTokens = 0, cachedTokens = 0 } = verdict.timings;
      expect(promptTokens - cachedTokens).toBeGreaterThan(512); // more than one prefill chunk
      expect(verdict.windows).toBeUndefined();
      designed(LONG, verdict);
    },

    streaming: async () => {
      const row = sample.harmful;
      const events: StreamEvent[] = [];
      for await (const event of guard().stream(row.input, { mode: 'full' })) events.push(event);
      const types = events.map((e) => e.type);
      expect(types.slice(-2)).toEqual(['verdict', 'done']);
      expect(types.slice(0, -2).every((type) => type === 'reasoning')).toBe(true);
      const trace = events.flatMap((e) => (e.type === 'reasoning' ? [e.text] : []));
      // The trace's prose as it is written, token by token; nothing for a family without one.
      if (spec.reasoningModel) expect(trace.length).toBeGreaterThan(5);
      expect(trace.join('')).toBe(spec.expected(row).reasoning);
      designed(row, (events.at(-1) as Extract<StreamEvent, { type: 'done' }>).verdict);
      designed(row, (events.at(-2) as Extract<StreamEvent, { type: 'verdict' }>).verdict);
    },

    abort: async () => {
      // Abort while a long input is being prefilled (several forward passes)...
      const controller = new AbortController();
      const call = classify(LONG.input, { signal: controller.signal });
      setTimeout(() => controller.abort(), 0);
      const error = await call.catch((e: unknown) => e);
      expect(isGuardError(error, 'aborted'), String(error)).toBe(true);
      // ...and, for a reasoning family, in the middle of its trace.
      if (spec.reasoningModel) {
        const stop = new AbortController();
        let pieces = 0;
        const streamed = await (async () => {
          for await (const event of guard().stream(sample.harmful.input, { mode: 'full', signal: stop.signal })) {
            if (event.type === 'reasoning' && ++pieces === 3) stop.abort();
          }
        })().catch((e: unknown) => e);
        expect(isGuardError(streamed, 'aborted'), String(streamed)).toBe(true);
      }
      // The guard goes on as before: the next call gets the designed answer, from the cache.
      const next = await classify(sample.harmful.input, {});
      designed(sample.harmful, next);
      expect(next.timings.cachedTokens).toBeGreaterThan(50);
    },

    'response moderation': async () => {
      expect(spec.responseRows.length, `${spec.id} answers no response`).toBeGreaterThan(0);
      for (const row of spec.responseRows) {
        designed(row, await full(row.input));
        const fast = await classify(row.input, { mode: 'fast' });
        expect(fast.label, row.name).toBe(row.expected);
      }
    },
  };
  const names = FEATURES.filter((name) => options.only?.includes(name) ?? true);
  // A twin that cannot answer a response is not checked for it (its spec says so in `lacks`).
  return names.filter((name) => name !== 'response moderation' || spec.responseRows.length > 0).map((name) => ({ name, run: checks[name] }));
}

function first(rows: readonly Row[], label: 'harmful' | 'unharmful'): Row {
  const row = rows.find((c) => c.expected === label && c.input.response === undefined);
  if (row === undefined) throw new Error(`the table needs a ${label} prompt`);
  return row;
}
