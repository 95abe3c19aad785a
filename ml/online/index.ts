/** Online linear learners: FTRL-Proximal and AdaGrad over hashed sparse features (see README.md). */
export * from './learner';
export * from './hash';
export * from './ftrl';
export * from './adagrad';
export * from './config';
export * from './snapshot';
