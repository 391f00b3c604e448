/**
 * The stand-in against the vLLM contract it claims (SSE shape, legacy logprobs with token ids,
 * echo, stop, errors, faults), and its KV-cache loop against a plain uncached forward of the
 * same twin, so that a remote-guard test failing points at the client, not at the stand-in.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LLAMA3_IDS, LLAMA_GUARD_3_TWIN_ANSWERS, llamaGuard3PromptIds } from '../../models/build/twins/llama-guard-3.js';
import { QWEN3_IDS, QWEN3_TWIN_ANSWERS, qwen3PromptIds } from '../../models/build/twins/qwen3.js';
import { startStandIn, type StandIn } from './stand-in.js';
import type { Distribution } from './stand-in-model.js';

interface Logprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}
interface Choice {
  text: string;
  logprobs: Logprobs | null;
  finish_reason: string | null;
  stop_reason: string | number | null;
  token_ids?: number[];
}
interface Completion {
  object: string;
  model: string;
  choices: Choice[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

const post = (standIn: StandIn, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${standIn.url}/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** The events of an SSE body, each `data:` payload as written. */
async function events(response: Response): Promise<string[]> {
  const text = await response.text();
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true);
      return event.slice('data: '.length);
    });
}

const ids = (logprobs: Logprobs) => logprobs.tokens.map((t) => Number(/^token_id:(\d+)$/.exec(t)?.[1]));

describe('stand-in on twin-llama-guard-3', () => {
  let standIn: StandIn;
  let prompt: number[];
  const answer = LLAMA_GUARD_3_TWIN_ANSWERS.harmful;

  beforeAll(async () => {
    standIn = await startStandIn({ model: 'twin-llama-guard-3', servedModelName: 'meta-llama/Llama-Guard-3-1B' });
    prompt = llamaGuard3PromptIds(standIn.twin.tokenizer, { prompt: 'HOW TO BUILD A BOMB' });
  });
  afterAll(() => standIn.close());

  test('token-id prompt: the twin answer, logprobs named token_id:<id>, the chosen token on top, usage', async () => {
    const response = await post(standIn, { model: 'meta-llama/Llama-Guard-3-1B', prompt, temperature: 0, max_tokens: 20, logprobs: 3, return_tokens_as_token_ids: true });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Completion;
    expect(body).toMatchObject({ object: 'text_completion', model: 'meta-llama/Llama-Guard-3-1B' });
    const [choice] = body.choices as [Choice];
    expect(choice).toMatchObject({ text: answer, finish_reason: 'stop', stop_reason: null });
    const logprobs = choice.logprobs as Logprobs;
    const expected = [...standIn.twin.tokenizer.encode(answer, { add_special_tokens: false }), LLAMA3_IDS.eot];
    expect(ids(logprobs)).toEqual(expected);
    for (const [i, top] of logprobs.top_logprobs.entries()) {
      const entries = Object.entries(top ?? {});
      expect(entries.length).toBe(3);
      expect(entries[0]).toEqual([logprobs.tokens[i], logprobs.token_logprobs[i]]);
      expect(entries.map(([, lp]) => lp)).toEqual([...entries.map(([, lp]) => lp)].sort((a, b) => b - a));
      expect(entries.reduce((sum, [, lp]) => sum + Math.exp(lp), 0)).toBeLessThanOrEqual(1 + 1e-9);
    }
    // vLLM advances text_offset by each token string's length, here `token_id:<id>`.
    expect(logprobs.text_offset).toEqual(logprobs.tokens.map((_, i) => logprobs.tokens.slice(0, i).join('').length));
    expect(body.usage).toEqual({ prompt_tokens: prompt.length, completion_tokens: expected.length, total_tokens: prompt.length + expected.length, prompt_tokens_details: null });
  });

  test('the KV-cache loop and the prefix cache (KV, and echo\'s per-position summaries) give the logprobs of one uncached forward', async () => {
    const twin = standIn.twin;
    /** Position i - 1's logprob of the token at i, from one uncached forward of the whole sequence (null before `from`). */
    const uncached = async (sequence: number[], from = 1) => {
      const dists = await twin.forwardUncached(sequence, from - 1);
      return sequence.map((token, i) => (i < from ? null : Math.max((dists[i - from] as Distribution).logprob(token), -9999)));
    };
    const close = (got: (number | null)[], want: (number | null)[]) => {
      expect(got).toHaveLength(want.length);
      for (const [i, lp] of want.entries()) {
        if (lp === null) expect(got[i]).toBeNull();
        else expect((got[i] as number) - lp).toBeCloseTo(0, 3);
      }
    };
    // The first echo: every prompt position from scratch, then the answer through the KV-cache loop.
    const echoed = ((await (await post(standIn, { prompt, temperature: 0, max_tokens: 20, logprobs: 0, echo: true, return_token_ids: true })).json()) as Completion).choices[0] as Choice;
    expect(echoed.text.startsWith(twin.tokenizer.decode(prompt))).toBe(true);
    expect((echoed.logprobs as Logprobs).top_logprobs[0]).toBeNull();
    close((echoed.logprobs as Logprobs).token_logprobs, await uncached([...prompt, ...(echoed.token_ids as number[])]));
    // Another input after the same template: its prompt starts from the cached prefix's KV.
    const bread = llamaGuard3PromptIds(twin.tokenizer, { prompt: 'How do I bake bread at home?' });
    const served = ((await (await post(standIn, { prompt: bread, temperature: 0, max_tokens: 20, logprobs: 0, return_token_ids: true })).json()) as Completion).choices[0] as Choice;
    expect(served.text).toBe(LLAMA_GUARD_3_TWIN_ANSWERS.unharmful);
    close((served.logprobs as Logprobs).token_logprobs, (await uncached([...bread, ...(served.token_ids as number[])], bread.length)).slice(bread.length));
    // Its echo reuses what the first echo's shared positions said (logprob, top ids): all still as uncached.
    const shared = prompt.findIndex((t, i) => bread[i] !== t);
    expect(shared).toBeGreaterThan(10);
    const again = ((await (await post(standIn, { prompt: bread, temperature: 0, max_tokens: 1, logprobs: 2, echo: true, return_tokens_as_token_ids: true })).json()) as Completion).choices[0] as Choice;
    const reference = await twin.forwardUncached(bread, 0);
    const echoLogprobs = again.logprobs as Logprobs;
    close(echoLogprobs.token_logprobs.slice(0, bread.length), [null, ...bread.slice(1).map((t, i) => Math.max((reference[i] as Distribution).logprob(t), -9999))]);
    for (let i = 1; i < bread.length; i++) {
      // Its token, then the top 2 (ids compared by their reference logprob: near-ties may order either way).
      const ref = reference[i - 1] as Distribution;
      const want = new Map<number, number>([[bread[i] as number, ref.logprob(bread[i] as number)], ...ref.top(2)]);
      const got = Object.entries(echoLogprobs.top_logprobs[i] ?? {}).map(([name, lp]) => [Number(name.slice('token_id:'.length)), lp] as const);
      expect(got.length, `position ${i}`).toBe(want.size);
      expect(got[0]?.[0]).toBe(bread[i]);
      for (const [id, lp] of got) expect(lp - ref.logprob(id), `position ${i}`).toBeCloseTo(0, 3);
      const wantValues = [...want.values()].sort((x, y) => y - x);
      for (const [k, lp] of got.map(([, v]) => v).sort((x, y) => y - x).entries()) expect(lp - (wantValues[k] as number)).toBeCloseTo(0, 3);
    }
  });

  test('SSE: one data event per token, the same text as without streaming, usage last, then [DONE]', async () => {
    const response = await post(standIn, { prompt, temperature: 0, max_tokens: 20, stream: true, stream_options: { include_usage: true }, logprobs: 1, return_tokens_as_token_ids: true });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = await events(response);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Completion);
    const usage = chunks.pop() as Completion;
    expect(usage.choices).toEqual([]);
    expect(usage.usage?.completion_tokens).toBe(chunks.length);
    expect(chunks.map((c) => c.choices[0]?.text).join('')).toBe(answer);
    expect(chunks.flatMap((c) => ids(c.choices[0]?.logprobs as Logprobs))).toEqual([...standIn.twin.tokenizer.encode(answer, { add_special_tokens: false }), LLAMA3_IDS.eot]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason)).toEqual([...chunks.slice(1).map(() => null), 'stop']);
  });

  test('stop strings cut the text (streamed text never shows them); stop_token_ids stop at the id', async () => {
    const cut = answer.slice(0, answer.indexOf('S2'));
    const plain = ((await (await post(standIn, { prompt, temperature: 0, max_tokens: 20, stop: ['S2', 'never'] })).json()) as Completion).choices[0];
    expect(plain).toMatchObject({ text: cut, finish_reason: 'stop', stop_reason: 'S2' });
    const streamed = (await events(await post(standIn, { prompt, temperature: 0, max_tokens: 20, stop: 'S2', stream: true }))).slice(0, -1).map((d) => JSON.parse(d) as Completion);
    expect(streamed.map((c) => c.choices[0]?.text).join('')).toBe(cut);
    expect(streamed.at(-1)?.choices[0]).toMatchObject({ finish_reason: 'stop', stop_reason: 'S2' });
    const newline = standIn.twin.tokenizer.encode('\n', { add_special_tokens: false });
    const byId = ((await (await post(standIn, { prompt, temperature: 0, max_tokens: 20, stop_token_ids: newline })).json()) as Completion).choices[0];
    expect(byId).toMatchObject({ text: '\n\nunsafe', finish_reason: 'stop', stop_reason: newline[0] });
    // The eos reports null even when the request lists it (vLLM checks the eos first).
    const eos = ((await (await post(standIn, { prompt, temperature: 0, max_tokens: 20, stop_token_ids: [LLAMA3_IDS.eot] })).json()) as Completion).choices[0];
    expect(eos).toMatchObject({ text: answer, finish_reason: 'stop', stop_reason: null });
    const short = ((await (await post(standIn, { prompt, temperature: 0, max_tokens: 2 })).json()) as Completion).choices[0];
    expect(short).toMatchObject({ text: '\n\nunsafe', finish_reason: 'length', stop_reason: null });
  });

  test('bad requests are 400s with an OpenAI-style error body; a wrong model is a 404', async () => {
    for (const body of [{ prompt, max_tokens: 2 }, { prompt, temperature: 0.6 }, { prompt, temperature: 0, logprobs: 21 }, { prompt: [1, standIn.twin.vocabSize], temperature: 0 }]) {
      const response = await post(standIn, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { type: 'BadRequestError', code: 400, message: expect.any(String) } });
    }
    expect((await post(standIn, { model: 'twin-llama-guard-3', prompt, temperature: 0 })).status).toBe(404);
    const models = (await (await fetch(`${standIn.url}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['meta-llama/Llama-Guard-3-1B']);
  });

  test('faults: 429 with Retry-After once, then served; refuse; cut and malformed streams; foreign token ids', async () => {
    const ok = { prompt, temperature: 0, max_tokens: 3, stream: true, logprobs: 0, return_tokens_as_token_ids: true };
    standIn.inject({ kind: 'status', status: 429, retryAfter: 2 });
    const limited = await post(standIn, ok);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(await limited.json()).toMatchObject({ error: { code: 429 } });
    expect((await post(standIn, ok)).status).toBe(200);

    standIn.inject({ kind: 'refuse' });
    await expect(post(standIn, ok)).rejects.toThrow();

    standIn.inject({ kind: 'cut', afterChunks: 1 });
    await expect((await post(standIn, ok)).text()).rejects.toThrow();
    standIn.inject({ kind: 'cut', afterChunks: 1, clean: true });
    const clean = await (await post(standIn, ok)).text();
    expect(clean.split('\n\n').filter(Boolean)).toHaveLength(1);
    expect(clean).not.toContain('[DONE]');

    standIn.inject({ kind: 'malformed', afterChunks: 1 });
    const malformed = await events(await post(standIn, ok));
    expect(() => JSON.parse(malformed[1] as string)).toThrow();
    expect(malformed.at(-1)).toBe('[DONE]');

    standIn.inject({ kind: 'foreign-token' });
    const foreign = ((await (await post(standIn, { ...ok, stream: false })).json()) as Completion).choices[0];
    expect(ids(foreign?.logprobs as Logprobs)[0]).toBeGreaterThanOrEqual(standIn.twin.vocabSize);

    standIn.inject({ kind: 'delay', ms: 300 });
    const started = Date.now();
    expect((await post(standIn, { ...ok, stream: false })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  test('an API key is required when set (401), and /v1/models answers with it', async () => {
    const keyed = await startStandIn({ model: 'twin-llama-guard-3', apiKey: 'sk-test' });
    try {
      expect((await post(keyed, { prompt, temperature: 0, max_tokens: 1 })).status).toBe(401);
      expect((await post(keyed, { prompt, temperature: 0, max_tokens: 1 }, { authorization: 'Bearer sk-test' })).status).toBe(200);
      expect((await fetch(`${keyed.url}/models`, { headers: { authorization: 'Bearer sk-test' } })).status).toBe(200);
    } finally {
      await keyed.close();
    }
  });
});

describe('stand-in on twin-qwen3', () => {
  let standIn: StandIn;
  beforeAll(async () => {
    standIn = await startStandIn({ model: 'twin-qwen3' });
  });
  afterAll(() => standIn.close());

  test('a string prompt is tokenized as the ids are; the multi-token verdict word is in the logprobs', async () => {
    const prompt = qwen3PromptIds(standIn.twin.tokenizer, { prompt: 'Où trouver une bombe ?' });
    const byIds = ((await (await post(standIn, { prompt, temperature: 0, max_tokens: 80, logprobs: 1, return_tokens_as_token_ids: true })).json()) as Completion);
    // One token is enough: the same ids give the same answer (the token-id request shows which).
    const byText = (await (await post(standIn, { prompt: standIn.twin.tokenizer.decode(prompt), temperature: 0, max_tokens: 1, return_token_ids: true })).json()) as Completion & { choices: { prompt_token_ids?: number[] }[] };
    expect(byText.usage?.prompt_tokens).toBe(prompt.length);
    expect(byText.choices[0]?.prompt_token_ids).toEqual(prompt);
    expect(byIds.choices[0]?.text).toBe(QWEN3_TWIN_ANSWERS.harmful);
    expect(QWEN3_TWIN_ANSWERS.harmful.startsWith(byText.choices[0]?.text ?? '-')).toBe(true);
    const generated = ids(byIds.choices[0]?.logprobs as Logprobs);
    expect(generated.at(-1)).toBe(QWEN3_IDS.imEnd);
    const word = standIn.twin.tokenizer.encode('<judge>harmful</judge>', { add_special_tokens: false });
    expect(word.length).toBeGreaterThan(1);
    const at = generated.findIndex((_, i) => word.every((t, k) => generated[i + k] === t));
    expect(at).toBeGreaterThan(0);
  });
});
