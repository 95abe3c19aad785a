import { formatEnvSpec, parseEnvSpec } from './env-spec';

describe('parseEnvSpec', () => {
  it.each([
    ['simulator', { kind: 'simulator' }],
    ['replay:logs/evals.jsonl', { kind: 'replay', file: 'logs/evals.jsonl' }],
    ['http:http://rag.internal:8080', { kind: 'http', url: 'http://rag.internal:8080' }],
    ['https://rag.example.com/base', { kind: 'http', url: 'https://rag.example.com/base' }],
    [
      'http:http://rag:8091;header:Authorization=env:TUNER_TOKEN;header:X-Org=env:ORG_ID',
      { kind: 'http', url: 'http://rag:8091', headers: { Authorization: { env: 'TUNER_TOKEN' }, 'X-Org': { env: 'ORG_ID' } } },
    ],
  ])('%s', (text, spec) => {
    expect(parseEnvSpec(text)).toEqual(spec);
    expect(parseEnvSpec(formatEnvSpec(spec as never))).toEqual(spec);
  });

  it.each([
    ['pigeon', /^env must be simulator, replay:FILE or http:URL, got "pigeon"$/],
    ['', /^env must be simulator, replay:FILE or http:URL, got ""$/],
    ['replay:', /replay needs a file/],
    ['http:not a url', /expected http:URL with an absolute http\(s\) URL/],
    [42, /got 42/],
    ['http:http://rag:8091;header:Authorization=Bearer abc', /^env: option "header:Authorization=…" after the URL must be header:NAME=env:VARIABLE[^]*not accepted\)$/],
    ['http:http://rag:8091;header:A=env:X;header:a=env:Y', /header a given twice/],
  ])('rejects %p', (text, message) => {
    expect(() => parseEnvSpec(text)).toThrow(message);
  });
});
