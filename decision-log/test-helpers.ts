/** Fixture for the decision log's integration tests: a fresh database with the migrations applied. */
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { migrate } from '../registry/migrate';
import { DecisionStore } from './index';

export interface DecisionLogFixture {
  db: TestDatabase;
  decisions: DecisionStore;
  close(): Promise<void>;
}

export async function createDecisionLogFixture(): Promise<DecisionLogFixture> {
  const db = await createTestDatabase({ poolSize: 12 });
  await migrate(db.pool);
  return {
    db,
    decisions: new DecisionStore({ pool: db.pool }),
    close: () => db.drop(),
  };
}
