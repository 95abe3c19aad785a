// Placeholder replaced by the foundation work: starts shared services for integration tests.
export default async function globalSetup(): Promise<void> {}
