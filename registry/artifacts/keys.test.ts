import { validateKey, validatePrefix } from './keys';
import { parseS3Uri } from './s3';
import { createArtifactStore } from './index';

describe('validateKey', () => {
  test.each(['model.onnx', 'models/ppo/3/model.onnx', 'a/b-c_d.e/f g', 'runs/2024-01-01T00:00:00Z/report.json', 'ünïcode/ключ', '.hidden/x', 'a/..b/c..'])(
    'accepts %j',
    (key) => expect(validateKey(key)).toBe(key),
  );
});

describe('validatePrefix', () => {
  test.each(['', 'models/', 'models/pp', 'models'])('accepts %j', (p) => expect(validatePrefix(p)).toBe(p));
  test.each([
    ['../', `invalid artifact key "..": it has a '..' segment`],
    ['/abs/', 'invalid artifact key "/abs": it is an absolute path'],
    ['a//', 'invalid artifact key "a/": it has an empty segment'],
  ])('refuses %j', (p, message) => expect(() => validatePrefix(p)).toThrow(message));
});

describe('parseS3Uri', () => {
  test.each([
    ['s3://bucket', { bucket: 'bucket', prefix: '' }],
    ['s3://bucket/', { bucket: 'bucket', prefix: '' }],
    ['s3://my.bucket-1/a/b/', { bucket: 'my.bucket-1', prefix: 'a/b' }],
  ])('%s', (uri, expected) => expect(parseS3Uri(uri)).toEqual(expected));

  test.each([
    ['http://bucket/x', 'artifact URI "http://bucket/x" is not of the form s3://bucket[/prefix]'],
    ['s3://Bad_Bucket/x', `artifact URI "s3://Bad_Bucket/x" has bucket "Bad_Bucket"; expected 3-63 lowercase letters, digits, '.' or '-'`],
    ['s3://bucket/../x', `invalid artifact key "../x": it has a '..' segment`],
  ])('refuses %s', (uri, message) => expect(() => parseS3Uri(uri)).toThrow(message));
});

describe('createArtifactStore', () => {
  test('picks the store by scheme', () => {
    expect(createArtifactStore('file:///tmp/x').scheme).toBe('file');
    const s3 = { endpoint: 'http://127.0.0.1:1', region: 'us-east-1', forcePathStyle: true, accessKeyId: 'a', secretAccessKey: 'b' };
    expect(createArtifactStore('s3://bucket/p', s3).scheme).toBe('s3');
  });
  test('names the URI and the accepted forms for anything else', () => {
    expect(() => createArtifactStore('gs://bucket/x')).toThrow(
      'artifact URI "gs://bucket/x" has an unknown scheme; expected file:///absolute/dir or s3://bucket[/prefix]',
    );
  });
});
