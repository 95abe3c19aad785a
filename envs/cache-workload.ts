/**
 * A prompt stream for seed 001's caching use case (UC8): popular questions asked again and again in
 * different words (near-duplicates: a cached answer to one serves the others), and a long tail of
 * one-off prompts that nobody repeats. Popularity follows a Zipf law over the question families; the
 * share of one-offs, the stream's seed and the size of each response are parameters. Seeded.
 */
import { Rng } from '../ml/rng';

/**
 * Question families: each line is one question in several wordings; near-duplicates of a wording
 * (`nearDuplicate`) are what a semantic cache should match, the other wordings only sometimes are.
 */
export const FAQ_FAMILIES: readonly (readonly string[])[] = [
  ['How do I reset my password?', 'how can i reset my password', 'I forgot my password, how do I reset it?', 'What are the steps to reset my password?'],
  ['How do I cancel my subscription?', 'how can I cancel my subscription', 'I want to cancel my subscription, how?', 'What is the way to cancel my subscription?'],
  ['What are your opening hours?', 'when are you open', 'What time do you open and close?', 'What are the business hours?'],
  ['How do I change my email address?', 'how can i update my email address', 'I need to change the email on my account', 'How to change the email address of my account?'],
  ['Where is my order?', 'where is my package', 'How can I track my order?', 'I want to track the delivery of my order'],
  ['How do I get a refund?', 'how can I get my money back', 'What is the refund process?', 'I would like a refund, what do I do?'],
  ['Do you ship internationally?', 'do you deliver to other countries', 'Can you ship my order abroad?', 'Is international shipping available?'],
  ['How do I enable two-factor authentication?', 'how to turn on 2FA', 'How can I set up two-factor authentication on my account?', 'Enable two factor authentication'],
  ['What payment methods do you accept?', 'which payment methods can I use', 'Can I pay with a credit card or PayPal?', 'What are the accepted ways to pay?'],
  ['How do I delete my account?', 'how can i delete my account permanently', 'I want to close and delete my account', 'What are the steps to remove my account?'],
  ['How do I contact customer support?', 'how can I reach customer service', 'What is the support phone number?', 'How do I talk to a support agent?'],
  ['Why was my card declined?', 'my card payment was declined, why', 'What does it mean when my card is declined?', 'Why did my credit card get rejected?'],
  ['How do I upgrade my plan?', 'how can I upgrade to the premium plan', 'I want to move to a higher plan', 'What are the steps to upgrade my subscription plan?'],
  ['Can I change my delivery address?', 'how do I change the shipping address of my order', 'I need to update the delivery address', 'Is it possible to change where my order is delivered?'],
  ['How do I download my invoice?', 'where can I find my invoices', 'How can I get a copy of my invoice?', 'Download invoice for my last payment'],
  ['What is your return policy?', 'how do returns work', 'Can I return an item I bought?', 'What are the rules for returning products?'],
  ['How do I apply a discount code?', 'where do I enter a promo code', 'How can I use a coupon code at checkout?', 'Apply a voucher code to my order'],
  ['Is my personal data safe?', 'how do you protect my data', 'What do you do with my personal information?', 'How is my privacy protected?'],
  ['How do I install the mobile app?', 'where can I download the app for my phone', 'Is there an app for iPhone and Android?', 'How to get the mobile application?'],
  ['How do I export my data?', 'how can I download all my data', 'I want an export of my account data', 'Export my data to a file'],
];

/** One-off prompts are built from these pieces: 108,000 combinations, rarely close to each other. */
const SUBJECTS = ['a medieval castle', 'quantum tunnelling', 'my grandmother\'s garden', 'the 1998 World Cup final', 'sourdough starters', 'a Kubernetes operator', 'Baroque counterpoint', 'the migration of arctic terns', 'a startup pitch deck', 'volcanic soil chemistry', 'the history of the bicycle', 'a haunted lighthouse', 'Rust lifetimes', 'coral reef bleaching', 'a jazz chord progression', 'the economics of toll roads', 'Byzantine mosaics', 'a wedding toast', 'black hole thermodynamics', 'urban beekeeping', 'a chess endgame', 'the Treaty of Westphalia', 'a vegan lasagne', 'solar panel inverters', 'Norse mythology', 'a job rejection letter', 'deep sea anglerfish', 'the Fibonacci sequence', 'a cyberpunk detective', 'Alpine glacier retreat'];
const TASKS = ['Write a short poem about', 'Explain to a ten-year-old', 'List five surprising facts about', 'Draft a formal email concerning', 'Compare two opinions on', 'Invent a story involving', 'Give a critique of', 'Summarise the debate around', 'Design a lesson plan on', 'Tell me a joke about'];
const TWISTS = ['in the style of Hemingway', 'using only questions', 'for a podcast intro', 'with a surprising ending', 'as a limerick', 'in under fifty words', 'from the point of view of a cat', 'with three bullet points', 'as a tweet', 'for a museum placard', 'mentioning the year 1642', 'with a recipe at the end'];

const OPENERS = ['', '', 'Hi, ', 'Hello! ', 'Quick question: ', 'Please help: ', 'hey '];
const CLOSERS = ['', '', ' Thanks!', ' Thank you.', ' thx', ' Please advise.'];

/** The same question as a person retypes it: another greeting or sign-off, case, punctuation. */
export function nearDuplicate(rng: Rng, text: string): string {
  let t = text;
  const r = rng.uniform();
  if (r < 0.3) t = t.toLowerCase();
  if (rng.uniform() < 0.4) t = t.replace(/[?.!]$/, '');
  return `${OPENERS[rng.int(OPENERS.length)]}${t}${CLOSERS[rng.int(CLOSERS.length)]}`.trim();
}

export interface CachePrompt {
  /** Index in the stream. */
  id: number;
  text: string;
  /** The question family (near-duplicates share it), or null for a one-off. */
  family: number | null;
  /** Tokens of the LLM call (prompt + answer) and bytes of the answer to store. */
  tokens: number;
  responseBytes: number;
  /** Seconds since the stream began. */
  at: number;
}

export interface CacheWorkloadOptions {
  seed: number;
  /** Share of one-off prompts (default 0.5). */
  oneOffShare?: number;
  /** Zipf exponent of the families' popularity (default 1.1). */
  zipf?: number;
  /** Mean seconds between requests (exponential; default 2). */
  meanGapSeconds?: number;
}

export class CacheWorkload {
  private readonly rng: Rng;
  private readonly weights: number[];
  private readonly oneOffShare: number;
  private readonly meanGap: number;
  private n = 0;
  private clock = 0;

  constructor(opts: CacheWorkloadOptions) {
    this.rng = new Rng(opts.seed);
    this.oneOffShare = opts.oneOffShare ?? 0.5;
    if (!(this.oneOffShare >= 0 && this.oneOffShare <= 1)) throw new Error(`oneOffShare: got ${opts.oneOffShare}, expected a share in [0, 1]`);
    const s = opts.zipf ?? 1.1;
    this.weights = FAQ_FAMILIES.map((_, i) => 1 / (i + 1) ** s);
    this.meanGap = opts.meanGapSeconds ?? 2;
  }

  next(): CachePrompt {
    this.clock += -Math.log(1 - this.rng.uniform()) * this.meanGap;
    const id = this.n++;
    if (this.rng.uniform() < this.oneOffShare) {
      const pick = <T>(xs: readonly T[]) => xs[this.rng.int(xs.length)];
      const text = `${pick(TASKS)} ${pick(SUBJECTS)} and ${pick(SUBJECTS)} ${pick(TWISTS)}.`;
      return { id, text, family: null, tokens: 600 + this.rng.int(1400), responseBytes: 2000 + this.rng.int(6000), at: this.clock };
    }
    const family = this.rng.categorical(this.weights);
    const wordings = FAQ_FAMILIES[family];
    // Mostly the family's common wording, retyped; sometimes another wording altogether.
    const base = this.rng.uniform() < 0.8 ? wordings[0] : wordings[1 + this.rng.int(wordings.length - 1)];
    return { id, text: nearDuplicate(this.rng, base), family, tokens: 300 + this.rng.int(500), responseBytes: 800 + this.rng.int(2000), at: this.clock };
  }
}
