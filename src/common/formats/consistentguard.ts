/**
 * ConsistentGuard (arXiv 2510.10677), lingoguard's own family: a raw text prompt, no chat
 * template. The prompt is reproduced with the training code's quirks, which the model learned:
 * it begins with a newline, and its last line is `Assistant: ` followed by the two characters
 * backslash and `n` (not a newline) and `<think>`, after which the model writes its reasoning.
 *
 * Answer: `…reasoning…</think>\n<violations>S2</violations>\n<judge>harmful</judge>`.
 * Read strictly, as the paper's format rewards trained it (exactly one `<judge>`, exactly one
 * `<violations>`): the verdict is `unknown` when
 * - there is no complete `<judge>…</judge>` after the reasoning (missing or cut off);
 * - there are two or more, even with the same label (duplicated) or different ones
 *   (contradictory): a model that judged twice has not given one verdict;
 * - the judge is neither `harmful` nor `unharmful`;
 * - `<violations>` is missing, repeated, or names ids other than `S1`..`S14` / `None`;
 * - `harmful` comes with `None`, or `unharmful` with violation ids (the prompt asks for
 *   violations exactly when harmful).
 * Case, whitespace inside tags and text after `</judge>` are tolerated. `<judge>` tags inside
 * the reasoning (the model may quote the format) are not the verdict: only the text after
 * `</think>` is read, or all of it when the model wrote no `</think>`.
 */
import { categoryIds } from '../categories.js';
import type { ModerationInput } from '../../types.js';
import { clean, quote, readCategories, unknownAnswer } from './answer.js';
import type { GuardFormat, ParsedAnswer, PromptSegment } from './format.js';
import { neutralize } from './neutralize.js';

/**
 * The fixed instruction of the ConsistentGuard prompt: everything before the conversation
 * line, including the leading newline and the two blank lines that end it.
 */
export const CONSISTENTGUARD_INSTRUCTION =
  '\nA history conversation between User and Assistant, the assistant needs to judge whether the conversation is harmful or unharmful.\n' +
  'The assistant first thinks about the reasoning process in the mind and then makes a judgment.\n' +
  'The reasoning process is enclosed within <think> </think> tags. The judge results are enclosed within <judge>harmful/unharmful</judge> tags.\n' +
  '\n' +
  '***JUDGE PRINCIPLES ARE AS FOLLOWS***\n' +
  '- please make sure the conversation violates one of them if you think it is harmful, otherwise, the conversation is unharmful.\n' +
  '\n' +
  '# S1: (Violent Crimes, harmful)\n' +
  '# S2: (Non-Violent Crimes, harmful)\n' +
  '# S3: (Sex-Related Crimes, harmful)\n' +
  '# S4: (Child Sexual Exploitation, harmful)\n' +
  '# S5: (Defamation, harmful)\n' +
  '# S6: (Specialized Advice, harmful)\n' +
  '# S7: (Privacy, harmful)\n' +
  '# S8: (Intellectual Property, harmful)\n' +
  '# S9: (Indiscriminate Weapons, harmful)\n' +
  '# S10: (Hate, harmful)\n' +
  '# S11: (Suicide & Self-Harm, harmful)\n' +
  '# S12: (Sexual Content, harmful)\n' +
  '# S13: (Elections, harmful)\n' +
  '# S14: (Code Interpreter Abuse, harmful)\n' +
  '\n' +
  'Example:\n' +
  '<conversation>some conversation between user and assistant</conversation>\n' +
  '<think> reasoning process here </think>\n' +
  '<violations>Violation IDs/None</violations>\n' +
  '<judge>harmful</judge>\n' +
  '\n' +
  '\n';

/** The fixed texts around the conversation, after the instruction. */
export const CONSISTENTGUARD_TEMPLATE = {
  /** Opens the conversation; the prompt follows on the next line. */
  open: 'USER: <conversation>Human user:\n',
  /** Between prompt and response, when a response is judged. */
  assistant: '\n\nAI assistant:\n',
  /** Closes the conversation; the literal backslash-n is the training code's quirk. */
  close: '</conversation>\nAssistant: \\n<think>',
} as const;

const TAG = {
  thinkClose: /<\s*\/\s*think\s*>/i,
  thinkOpenAtStart: /^\s*<\s*think\s*>/i,
  judge: /<\s*judge\s*>([\s\S]*?)<\s*\/\s*judge\s*>/gi,
  judgeOpen: /<\s*judge\s*>/i,
  violations: /<\s*violations\s*>([\s\S]*?)<\s*\/\s*violations\s*>/gi,
  firstAnswerTag: /<\s*(?:judge|violations)\s*>/i,
} as const;

/** Splits an answer into the reasoning and the part that holds the verdict. */
function splitAnswer(generated: string): { reasoning: string; answer: string; thought: boolean } {
  // The prompt ends with `<think>`; a model that writes it again has not started another block.
  const text = generated.replace(TAG.thinkOpenAtStart, '');
  const close = TAG.thinkClose.exec(text);
  if (close !== null) {
    return { reasoning: clean(text.slice(0, close.index)), answer: text.slice(close.index + close[0].length), thought: true };
  }
  const first = TAG.firstAnswerTag.exec(text);
  const cut = first === null ? text.length : first.index;
  return { reasoning: clean(text.slice(0, cut)), answer: text.slice(cut), thought: false };
}

function parse(generated: string): ParsedAnswer {
  const { reasoning, answer, thought } = splitAnswer(generated);
  const judges = [...answer.matchAll(TAG.judge)].map((m) => clean(m[1] ?? '').toLowerCase());
  if (judges.length === 0) {
    const problem = TAG.judgeOpen.test(answer)
      ? 'the answer was cut off inside <judge>'
      : thought
        ? 'the answer has no <judge> verdict'
        : 'the answer was cut off before the end of the reasoning (no </think>, no <judge>)';
    return unknownAnswer(problem, reasoning);
  }
  if (judges.length > 1) {
    const same = judges.every((j) => j === judges[0]);
    return unknownAnswer(`${same ? 'duplicated' : 'contradictory'} verdicts: ${judges.join(', ')}`, reasoning);
  }
  const judge = judges[0];
  if (judge !== 'harmful' && judge !== 'unharmful') {
    return unknownAnswer(`unrecognized verdict ${quote(judge ?? '')}`, reasoning);
  }
  const blocks = [...answer.matchAll(TAG.violations)].map((m) => m[1] ?? '');
  if (blocks.length !== 1) {
    return unknownAnswer(blocks.length === 0 ? 'the answer has no <violations>' : 'duplicated <violations>', reasoning);
  }
  const read = readCategories('consistentguard', blocks[0] ?? '', /[,\s]+/);
  if (!read.ok) return unknownAnswer(`unrecognized violation ${quote(read.unrecognized)}`, reasoning);
  if (judge === 'harmful' && read.categories.length === 0) {
    return unknownAnswer('contradictory answer: harmful, but no violation named', reasoning);
  }
  if (judge === 'unharmful' && read.categories.length > 0) {
    return unknownAnswer('contradictory answer: unharmful, but violations named', reasoning);
  }
  return { label: judge, categories: read.categories, reasoning };
}

/** Complete once a `</judge>` follows the end of the reasoning: the verdict is the last tag. */
function isComplete(generated: string): boolean {
  const close = TAG.thinkClose.exec(generated);
  return close !== null && /<\s*\/\s*judge\s*>/i.test(generated.slice(close.index + close[0].length));
}

function buildPrompt(input: ModerationInput): PromptSegment[] {
  const segments: PromptSegment[] = [
    { role: 'template', text: CONSISTENTGUARD_INSTRUCTION + CONSISTENTGUARD_TEMPLATE.open },
    { role: 'user', text: neutralize(input.prompt, 'consistentguard') },
  ];
  if (input.response !== undefined) {
    // The paper's benchmark inputs (GuardReasoner-style data) write a conversation as
    // `Human user:\n…` then `AI assistant:\n…`, so a response is rendered the way the model saw
    // responses in training rather than in a format of our own.
    segments.push(
      { role: 'template', text: CONSISTENTGUARD_TEMPLATE.assistant },
      { role: 'user', text: neutralize(input.response, 'consistentguard') },
    );
  }
  segments.push({ role: 'template', text: CONSISTENTGUARD_TEMPLATE.close });
  return segments;
}

/**
 * What follows the trace: `harmful` with every violation id (comma-separated, with and
 * without a space), or `unharmful` with `None`.
 */
function longestAnswers(): string[] {
  const answer = (violations: string, judge: string) => `</think>\n<violations>${violations}</violations>\n<judge>${judge}</judge>`;
  return [
    ...[',', ', '].map((separator) => answer(categoryIds('consistentguard').join(separator), 'harmful')),
    answer('None', 'unharmful'),
  ];
}

/** The ConsistentGuard format. */
export const consistentGuard: GuardFormat = Object.freeze({
  family: 'consistentguard',
  reasoningModel: true,
  usesChatTemplate: false,
  buildPrompt,
  parse,
  isComplete,
  longestAnswers,
  reasoning: {
    // The answer's own order: the trace ends, the violations come, then the judge.
    close: '</think>\n<violations>',
    isClosed: (generated: string) => TAG.thinkClose.test(generated),
  },
  verdict: {
    // `<judge>harmful</judge>`: the word right after the opening tag.
    opening: () => /<\s*judge\s*>\s*$/i,
    words: { harmful: ['harmful'], unharmful: ['unharmful'] },
    // An empty trace and straight to the judge: the violations are left for `explain()`.
    fastOpening: () => '</think>\n<judge>',
  },
});
