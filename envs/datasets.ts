/**
 * The evaluation datasets the RAG-tuning environment draws episodes from (R-TUNER-DATASETS): each is a
 * frozen validation slice described by its manifest, its mix of question categories and the
 * metadata of the corpus it retrieves from (size and age are state features, R-TUNER-STATE).
 * The three mixes differ so a tuner has to serve different traffic; all use the simulator's
 * categories (`policy`, `howto`, `definition`).
 */

export interface DatasetSpec {
  /** Manifest id (R-TUNER-DATASETS), e.g. `acme-policies-v1`. */
  id: string;
  /** Share of each question category in the slice; sums to 1. */
  categoryMix: Record<string, number>;
  corpus: {
    /** Documents in the retrieval index. */
    documents: number;
    /** Days since the index was last rebuilt. */
    ageDays: number;
  };
  /** Validation slice size (questions). */
  size: number;
  commit: string;
}

export const DATASETS: Record<string, DatasetSpec> = {
  'acme-policies': {
    id: 'acme-policies-v1',
    categoryMix: { policy: 0.5, howto: 0.3, definition: 0.2 },
    corpus: { documents: 12_000, ageDays: 45 },
    size: 500,
    commit: '9e1c3f0',
  },
  'dev-docs': {
    id: 'dev-docs-v3',
    categoryMix: { policy: 0.15, howto: 0.5, definition: 0.35 },
    corpus: { documents: 48_000, ageDays: 7 },
    size: 500,
    commit: '41d07ab',
  },
  'support-faq': {
    id: 'support-faq-v2',
    categoryMix: { policy: 0.3, howto: 0.2, definition: 0.5 },
    corpus: { documents: 3_500, ageDays: 180 },
    size: 500,
    commit: 'c2a9e55',
  },
};

/** The dataset named `name`; throws listing the known ones. */
export function getDataset(name: string): DatasetSpec {
  const d = DATASETS[name];
  if (!d) throw new Error(`unknown dataset ${JSON.stringify(name)} (expected one of ${Object.keys(DATASETS).join(', ')})`);
  return d;
}

/** Checks a mix: non-negative shares over known categories that sum to 1 (±1e-9). */
export function validateCategoryMix(name: string, mix: Record<string, number>, categories: readonly string[]): void {
  let total = 0;
  for (const [category, share] of Object.entries(mix)) {
    if (!categories.includes(category)) {
      throw new Error(`dataset ${name}: category ${JSON.stringify(category)} is not one of ${categories.join(', ')}`);
    }
    if (!(share >= 0)) throw new Error(`dataset ${name}: share of ${category} must be ≥ 0, got ${share}`);
    total += share;
  }
  if (Math.abs(total - 1) > 1e-9) throw new Error(`dataset ${name}: category shares must sum to 1, got ${total}`);
}
