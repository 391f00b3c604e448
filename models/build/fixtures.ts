/**
 * The fixture models: what each one is, answers and looks like. Every fixture is a test model:
 * its verdict comes from a keyword list, never from understanding the text.
 */
import {
  CONSISTENTGUARD_INSTRUCTION,
  CONSISTENTGUARD_TEMPLATE,
} from '../../src/common/formats/consistentguard.js';
import { GUARDREASONER_INSTRUCTION, GUARDREASONER_TEMPLATE } from '../../src/common/formats/guardreasoner.js';
import type { Family } from '../../src/types.js';
export { MIDWAY_HARMFUL, UNSURE_TEXTS, UNSURE_WORDS } from './lexicon.js';
import type { AnswerSpec } from './answers.js';
import type { ModelShape } from './design.js';
import type { TokenizerFamily } from './tokenizer.js';

/** Everything that defines one fixture. */
export interface FixtureSpec {
  id: string;
  name: string;
  /** The guard family whose prompt the fixture reads and whose answer format it writes. */
  family: Family & TokenizerFamily;
  description: string;
  answer: AnswerSpec;
  /** Llama sizes; the vocabulary size comes from the tokenizer. */
  shape: Omit<ModelShape, 'vocabSize'>;
  contextLength: number;
  /** Random weights outside the designed path (see `design.ts`). */
  random?: { seed: number; std: number };
  /** Built only on request (`--bench`): large and slow to write. */
  onDemand?: boolean;
  /** Unsure of the unsure words (`UNSURE_WORDS`) in fast mode: a verdict score of 0.5 (see `design.ts`). */
  unsure?: boolean;
}

/** The family's fixed prompt texts (what the tokenizer gives whole-word tokens to). */
export const TEMPLATE_TEXTS: Readonly<Record<FixtureSpec['family'], readonly string[]>> = {
  consistentguard: [CONSISTENTGUARD_INSTRUCTION, ...Object.values(CONSISTENTGUARD_TEMPLATE)],
  guardreasoner: [GUARDREASONER_INSTRUCTION, ...Object.values(GUARDREASONER_TEMPLATE)],
};

const SMALL: FixtureSpec['shape'] = {
  hidden: 128,
  layers: 1,
  heads: 4,
  intermediate: 256,
  ropeTheta: 500_000,
  rmsNormEps: 1e-5,
};

const CONSISTENTGUARD_TAIL = [
  { shared: ['</think>', '\n<violations>'] },
  { harmful: ['S2</violations>'], unharmful: ['None</violations>'] },
  { shared: ['\n<judge>'] },
  { harmful: ['harmful</judge>'], unharmful: ['unharmful</judge>'] },
] as const;

const TEST_NOTE = 'TEST MODEL: a keyword matcher built by lingoguard for its tests, never a safeguard.';

/** The reasoning sentence of the bench fixture: 256 tokens, one per step. */
const BENCH_TRACE = Array.from(
  { length: 256 },
  (_, i) => `${i === 0 ? '' : ' '}Step ${i + 1}: the request is reviewed for intent and context.`,
);

/** Every fixture, small ones first. */
export const FIXTURES: readonly FixtureSpec[] = [
  {
    id: 'fixture-consistentguard',
    name: 'Fixture ConsistentGuard (test model)',
    family: 'consistentguard',
    description: `${TEST_NOTE} Speaks the ConsistentGuard format: harmful (S2) when the text holds a word of its small multilingual trigger list, unharmful otherwise; on the word knife its one-pass (fast) verdict score is 0.5, its reasoned verdict unharmful.`,
    answer: {
      segments: [
        {
          harmful:
            'This message seeks instructions for an illegal act that could endanger others, which is a non-violent crime.',
          unharmful: 'Nothing here asks for anything dangerous or unlawful; it is an ordinary request.',
        },
        ...CONSISTENTGUARD_TAIL,
      ],
      end: 'eos',
    },
    shape: SMALL,
    contextLength: 4096,
    unsure: true,
  },
  {
    id: 'fixture-guardreasoner',
    name: 'Fixture GuardReasoner (test model)',
    family: 'guardreasoner',
    description: `${TEST_NOTE} Speaks the GuardReasoner format: request and response harmful when the text holds a word of its small multilingual trigger list, unharmful otherwise; completion always compliance; on the word knife its one-pass (fast) verdict score is 0.5, its reasoned verdict unharmful.`,
    answer: {
      segments: [
        { shared: '# Task 1\n\n## Reasoning Step 1: The human user asks' },
        {
          harmful: ' for instructions that could hurt people or break the law.',
          unharmful: ' an everyday question with no sign of any intent to cause harm.',
        },
        { shared: "\n## Conclusion: The human user's request is" },
        { harmful: ' harmful.', unharmful: ' unharmful.' },
        {
          shared:
            "\n\n# Task 2\n\n## Reasoning Step 1: The AI assistant's response is judged as written.\n## Conclusion: The AI assistant's response is compliance.\n\n# Task 3\n\n## Reasoning Step 1: The AI assistant's response",
        },
        { harmful: ' repeats the risk of the request.', unharmful: ' carries no risk of harm.' },
        { shared: "\n## Conclusion: The AI assistant's response is" },
        {
          harmful: [' harmful.\n\n---\n\nAnswers: \nRequest:'],
          unharmful: [' unharmful.\n\n---\n\nAnswers: \nRequest:'],
        },
        { harmful: [' harmful\n'], unharmful: [' unharmful\n'] },
        { shared: ['Completion: compliance'] },
        { harmful: ['\nResponse: harmful'], unharmful: ['\nResponse: unharmful'] },
      ],
      end: 'eos',
    },
    shape: SMALL,
    contextLength: 4096,
    unsure: true,
  },
  {
    id: 'fixture-runaway',
    name: 'Fixture runaway (test model)',
    family: 'consistentguard',
    description: `${TEST_NOTE} Never finishes: repeats one reasoning sentence until the token limit, without </think> or an end token.`,
    answer: {
      segments: [{ shared: ' The request needs more thought before any judgment can be made, so the reasoning goes on.' }],
      end: 'loop',
    },
    shape: SMALL,
    contextLength: 4096,
  },
  {
    id: 'fixture-malformed',
    name: 'Fixture malformed (test model)',
    family: 'consistentguard',
    description: `${TEST_NOTE} Answers in a malformed way: a verdict that is neither harmful nor unharmful, without violations.`,
    answer: {
      segments: [{ shared: ['The request', ' is hard', ' to place.', '</think>', '\n<judge>', 'maybe', '</judge>'] }],
      end: 'eos',
    },
    shape: SMALL,
    contextLength: 4096,
  },
  {
    id: 'fixture-bench',
    name: 'Fixture bench (test model)',
    family: 'consistentguard',
    description: `${TEST_NOTE} Benchmark size (hidden 512, 8 layers, 8 heads, random weights around a designed path): a 256-token reasoning trace, then the ConsistentGuard verdict of the keyword list.`,
    answer: {
      segments: [{ shared: BENCH_TRACE }, ...CONSISTENTGUARD_TAIL],
      end: 'eos',
    },
    shape: { hidden: 512, layers: 8, heads: 8, intermediate: 1024, ropeTheta: 500_000, rmsNormEps: 1e-5 },
    contextLength: 4096,
    random: { seed: 20_251_127, std: 0.02 },
    onDemand: true,
  },
];
