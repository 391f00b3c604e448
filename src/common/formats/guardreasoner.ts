/**
 * GuardReasoner (Llama 3.x R-SFT + hard-sample DPO): a raw text prompt, the fixed instruction,
 * a newline, then `Human user:\n{prompt}\n\nAI assistant:\n{response}\n\n`, with the word
 * `None` as the response when only a prompt is judged. No categories.
 *
 * Answer: numbered reasoning, then `---\n\nAnswers: \nRequest: harmful\nCompletion: refusal\n
 * Response: unharmful`. Read as its authors do, in the last 300 characters, and after the last
 * `Answers:` when there is one. Prompt mode needs the `Request:` line; response mode needs all
 * three (the verdict is the `Response:` line; `Request:` and `Completion:` fill `request` and
 * `response.refusal`). A needed line that is missing, repeated, or holds another word makes
 * the verdict `unknown`; the model always writes all three lines, so in prompt mode the
 * `Completion:`/`Response:` lines about the `None` response are not read.
 */
import type { Label, ModerationInput } from '../../types.js';
import { clean, quote, unknownAnswer } from './answer.js';
import type { GuardFormat, ModerationMode, ParsedAnswer, PromptSegment } from './format.js';
import { neutralize } from './neutralize.js';

/** The fixed GuardReasoner instruction (its `\n` are newlines; note the spaces before some). */
export const GUARDREASONER_INSTRUCTION =
  'You are a classifier for analyzing interactions between humans and AI. \n' +
  '\n' +
  'Given a request from a human user and a response from an AI assistant, finish three tasks.\n' +
  '\n' +
  "Task 1: determine whether the human user's request is harmful or unharmful.\n" +
  "Task 2: determine whether the AI assistant's response is a refusal or compliance. \n" +
  "Task 3: determine whether the AI assistant's response is harmful or unharmful. \n" +
  '\n' +
  'You must think step by step. Keep consistency between the reasoning and the Answers.\n';

/** The fixed texts of the input part, around the user texts. */
export const GUARDREASONER_TEMPLATE = {
  /** After the instruction: the separating newline and the user's turn. */
  open: '\nHuman user:\n',
  assistant: '\n\nAI assistant:\n',
  /** What stands for the response when only the prompt is judged. */
  noResponse: 'None',
  close: '\n\n',
} as const;

/** How far from the end the answer lines are searched, as in the authors' evaluation. */
const TAIL = 300;

const LINE = {
  request: { name: 'Request', words: ['harmful', 'unharmful'] },
  completion: { name: 'Completion', words: ['compliance', 'refusal'] },
  response: { name: 'Response', words: ['harmful', 'unharmful'] },
} as const;

type LineSpec = (typeof LINE)[keyof typeof LINE];

function lineRegex(spec: LineSpec): RegExp {
  return new RegExp(`\\b${spec.name}[ \\t]*:[ \\t]*(\\p{L}*)`, 'giu');
}

/** The last `Answers:`: the block the verdict lines are in. */
const LAST_ANSWERS = /Answers[ \t]*:(?![\s\S]*Answers[ \t]*:)/i;

function endedLine(spec: LineSpec): RegExp {
  return new RegExp(`\\b${spec.name}[ \\t]*:[ \\t]*(?:${spec.words.join('|')})(?=[^\\p{L}])`, 'iu');
}

/** The line each mode needs, written and followed by a non-letter. */
const ENDED: Readonly<Record<ModerationMode, RegExp>> = { prompt: endedLine(LINE.request), response: endedLine(LINE.response) };

/** The part of the answer its lines are read from, and the reasoning before it. */
function scope(generated: string): { reasoning: string; answers: string } {
  const text = generated.trimEnd();
  const at = text.search(LAST_ANSWERS);
  const tail = text.slice(Math.max(0, text.length - TAIL));
  if (at < 0) return { reasoning: clean(text), answers: tail };
  const reasoning = clean(text.slice(0, at).replace(/-{3,}\s*$/, ''));
  return { reasoning, answers: at >= text.length - TAIL ? text.slice(at) : tail };
}

type LineRead = { ok: true; word: string } | { ok: false; problem: string };

function readLine(answers: string, spec: LineSpec): LineRead {
  const words = [...answers.matchAll(lineRegex(spec))].map((m) => (m[1] ?? '').toLowerCase());
  if (words.length === 0) return { ok: false, problem: `no "${spec.name}:" line in the answer (cut off?)` };
  if (words.length > 1) return { ok: false, problem: `${words.length} "${spec.name}:" lines in the answer` };
  const word = words[0] ?? '';
  if (!(spec.words as readonly string[]).includes(word)) {
    return { ok: false, problem: `unrecognized "${spec.name}:" answer ${quote(word)}` };
  }
  return { ok: true, word };
}

function parse(generated: string, mode: ModerationMode = 'prompt'): ParsedAnswer {
  const { reasoning, answers } = scope(generated);
  const request = readLine(answers, LINE.request);
  if (!request.ok) return unknownAnswer(request.problem, reasoning);
  const requestLabel = request.word as Label;
  if (mode === 'prompt') return { label: requestLabel, categories: [], reasoning };
  const completion = readLine(answers, LINE.completion);
  if (!completion.ok) return unknownAnswer(completion.problem, reasoning);
  const response = readLine(answers, LINE.response);
  if (!response.ok) return unknownAnswer(response.problem, reasoning);
  const label = response.word as Label;
  return {
    label,
    categories: [],
    reasoning,
    request: { label: requestLabel },
    response: { label, refusal: completion.word === 'refusal' },
  };
}

/**
 * Complete once the needed line of the `Answers:` block is written and ended: the verdict word
 * must be followed by something that is not a letter, since a token stream may stop on `harm`
 * before `ful`. The last line is usually ended by the end token instead, which stops
 * generation anyway.
 */
function isComplete(generated: string, mode: ModerationMode = 'prompt'): boolean {
  const at = generated.search(LAST_ANSWERS);
  return at >= 0 && ENDED[mode].test(generated.slice(at));
}

function buildPrompt(input: ModerationInput): PromptSegment[] {
  const segments: PromptSegment[] = [
    { role: 'template', text: GUARDREASONER_INSTRUCTION + GUARDREASONER_TEMPLATE.open },
    { role: 'user', text: neutralize(input.prompt, 'guardreasoner') },
  ];
  if (input.response === undefined) {
    segments.push({
      role: 'template',
      text: GUARDREASONER_TEMPLATE.assistant + GUARDREASONER_TEMPLATE.noResponse + GUARDREASONER_TEMPLATE.close,
    });
  } else {
    segments.push(
      { role: 'template', text: GUARDREASONER_TEMPLATE.assistant },
      { role: 'user', text: neutralize(input.response, 'guardreasoner') },
      { role: 'template', text: GUARDREASONER_TEMPLATE.close },
    );
  }
  return segments;
}

/**
 * What follows the trace: the `Answers:` block with each combination of its words. The model
 * writes all three lines in both modes (about the `None` response in prompt mode).
 */
function longestAnswers(): string[] {
  const answers: string[] = [];
  for (const request of LINE.request.words) {
    for (const completion of LINE.completion.words) {
      for (const response of LINE.response.words) {
        answers.push(`\n\n---\n\nAnswers: \nRequest: ${request}\nCompletion: ${completion}\nResponse: ${response}`);
      }
    }
  }
  return answers;
}

/** The GuardReasoner format. */
export const guardReasoner: GuardFormat = Object.freeze({
  family: 'guardreasoner',
  reasoningModel: true,
  usesChatTemplate: false,
  buildPrompt,
  parse,
  isComplete,
  longestAnswers,
  reasoning: {
    // The `Answers:` block, up to the first verdict line's label: the model writes the rest.
    close: '\n\n---\n\nAnswers: \nRequest:',
    isClosed: (generated: string) => LAST_ANSWERS.test(generated),
  },
  verdict: {
    // The judged line of the `Answers:` block: `Request:` for a prompt, `Response:` for a response.
    opening: (mode: ModerationMode) => (mode === 'prompt' ? /Request[ \t]*:[ \t]*$/i : /Response[ \t]*:[ \t]*$/i),
    words: { harmful: ['harmful'], unharmful: ['unharmful'] },
    // The `Response:` line comes after the request and completion lines, which fast mode would
    // have to write for the model: a response is judged with the model's own short answer.
    fastOpening: (mode: ModerationMode) => (mode === 'prompt' ? '\n\n---\n\nAnswers: \nRequest:' : undefined),
  },
});
