/**
 * What each fixture answers, as token pieces per branch (`harmful` when the text to classify
 * holds a trigger word, `unharmful` otherwise), and the successor table the weight design
 * turns into an LM head.
 *
 * A piece is one token. A token's next token must be a function of the token and the branch,
 * so pieces are made unique within a branch, and a token written in only one branch never
 * appears in the other: then every token shared by both branches either has one successor
 * or is a branch point whose two successors belong to one branch each.
 *
 * Every piece also spans at least two pre-tokens (` seeks instructions`, `None</violations>`):
 * the tokenizer never joins pre-tokens, so no user text can encode into an answer token.
 */
import { preTokenize } from './tokenizer.js';

/** Part of an answer: the same in both branches, or different. Strings are cut into word pieces. */
export type AnswerSegment =
  | { shared: string | readonly string[] }
  | { harmful: string | readonly string[]; unharmful: string | readonly string[] };

/** A fixture's answer. */
export interface AnswerSpec {
  segments: readonly AnswerSegment[];
  /** `eos`: the answer ends with the end token; `loop`: the last piece is followed by the first, forever. */
  end: 'eos' | 'loop';
}

/** The branches a fixture chooses between. */
export const BRANCHES = ['harmful', 'unharmful'] as const;

/** A branch. */
export type Branch = (typeof BRANCHES)[number];

/** Pieces of each branch, in order. */
export type AnswerPieces = Readonly<Record<Branch, readonly string[]>>;

/** `text` as words with their leading whitespace (the concatenation is `text`). */
function words(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** Whether `piece` can be an answer token: new, and more than one pre-token long. */
function acceptable(piece: string, avoid: ReadonlySet<string>): boolean {
  return !avoid.has(piece) && preTokenize(piece).length >= 2;
}

/**
 * Groups `items` into pieces that are {@link acceptable}, adding words to a piece until it
 * is; a tail that is not joins the previous piece.
 */
function uniquePieces(items: readonly string[], avoid: Set<string>): string[] {
  const out: string[] = [];
  let current = '';
  for (const item of items) {
    current += item;
    if (acceptable(current, avoid)) {
      out.push(current);
      avoid.add(current);
      current = '';
    }
  }
  if (current !== '') {
    const last = out.pop();
    if (last === undefined) throw new Error(`cannot make a unique piece of ${JSON.stringify(current)}`);
    avoid.delete(last);
    const joined = last + current;
    if (!acceptable(joined, avoid)) throw new Error(`cannot make a unique piece of ${JSON.stringify(joined)}`);
    out.push(joined);
    avoid.add(joined);
  }
  return out;
}

function split(value: string | readonly string[]): string[] {
  return typeof value === 'string' ? words(value) : [...value];
}

/** Cuts an answer into pieces that satisfy the uniqueness rules above. */
export function answerPieces(spec: AnswerSpec): AnswerPieces {
  // Shared pieces first: both branches hold them, so branch pieces must avoid them all.
  const shared = new Set<string>();
  const sharedPieces = spec.segments.map((s) => ('shared' in s ? uniquePieces(split(s.shared), shared) : []));
  const harmfulUsed = new Set(shared);
  const harmfulPieces = spec.segments.map((s) => ('harmful' in s ? uniquePieces(split(s.harmful), harmfulUsed) : []));
  const unharmfulUsed = new Set([...harmfulUsed]);
  const unharmfulPieces = spec.segments.map((s) =>
    'unharmful' in s ? uniquePieces(split(s.unharmful), unharmfulUsed) : [],
  );
  const harmful: string[] = [];
  const unharmful: string[] = [];
  spec.segments.forEach((segment, i) => {
    if ('shared' in segment) {
      harmful.push(...(sharedPieces[i] ?? []));
      unharmful.push(...(sharedPieces[i] ?? []));
    } else {
      harmful.push(...(harmfulPieces[i] ?? []));
      unharmful.push(...(unharmfulPieces[i] ?? []));
    }
  });
  return { harmful, unharmful };
}

/** The full text of a branch's answer. */
export function answerText(pieces: AnswerPieces, branch: Branch): string {
  return pieces[branch].join('');
}

/** Next-token rules: for each token, its successor in each branch it occurs in. */
export interface SuccessorTable {
  /** Successors of the answer's start (the prompt's last token, whatever it is). */
  start: Readonly<Record<Branch, number>>;
  /** Successors of each answer token. */
  next: ReadonlyMap<number, Partial<Record<Branch, number>>>;
}

/**
 * The successor table of `pieces`, in token ids.
 * @throws when a token would need two successors in one branch.
 */
export function successorTable(
  pieces: AnswerPieces,
  idOf: (piece: string) => number,
  end: AnswerSpec['end'],
  eosId: number,
  forced: ReadonlyMap<string, number> = new Map(),
): SuccessorTable {
  const next = new Map<number, Partial<Record<Branch, number>>>();
  const start = {} as Record<Branch, number>;
  for (const branch of BRANCHES) {
    const ids = pieces[branch].map(idOf);
    const first = ids[0];
    if (first === undefined) throw new Error(`empty ${branch} answer`);
    start[branch] = first;
    ids.forEach((id, i) => {
      const following = ids[i + 1] ?? (end === 'eos' ? eosId : first);
      const entry = next.get(id) ?? {};
      const known = entry[branch];
      if (known !== undefined && known !== following) {
        throw new Error(`token ${id} has two successors in the ${branch} answer`);
      }
      entry[branch] = following;
      next.set(id, entry);
    });
  }
  // A forced text (written by the runtime: a closed trace, a fast-mode opening) continues each
  // branch's answer where that branch's own text ends with it, or else with its last line (the
  // opening the model answers after, e.g. `<judge>` when the runtime skipped the violations).
  for (const [text, id] of forced) {
    const lastLine = text.slice(text.lastIndexOf('\n'));
    const entry: Partial<Record<Branch, number>> = {};
    for (const branch of BRANCHES) {
      const follows = (ending: string) => {
        let before = '';
        for (const piece of pieces[branch]) {
          if (before.endsWith(ending)) return idOf(piece);
          before += piece;
        }
        return undefined;
      };
      const successor = follows(text) ?? (lastLine.length > 1 ? follows(lastLine) : undefined);
      if (successor !== undefined) entry[branch] = successor;
    }
    if (Object.keys(entry).length > 0) next.set(id, entry);
  }
  return { start, next };
}
