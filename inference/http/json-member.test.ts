import { jsonMemberText } from './json-member';

describe('jsonMemberText', () => {
  const cases: [string, string, string | null][] = [
    ['{"deployment":"ranker","features":[0.841,-1,1e-3],"unit":"user:42"}', 'features', '[0.841,-1,1e-3]'],
    ['{"features":[1,2]}', 'features', '[1,2]'],
    ['  {\n "features" :\t[ 1 ,\n 2 ] , "x": 1 }  ', 'features', '[ 1 ,\n 2 ]'],
    ['{"features":{"a":1,"b":"]}\\"[{","c":[{"d":[]}]},"z":0}', 'features', '{"a":1,"b":"]}\\"[{","c":[{"d":[]}]}'],
    ['{"a":"features","features":3.5e2}', 'features', '3.5e2'],
    ['{"featuresX":1,"Xfeatures":2,"features":null}', 'features', 'null'],
    ['{"feat\\u0075res":[7]}', 'features', '[7]'], // an escaped key that decodes to the name
    ['{"features":[1],"features":[2]}', 'features', '[2]'], // JSON.parse keeps the last
    ['{"features":true}', 'features', 'true'],
    ['{"features":["a\\\\",1,"]"],"z":"\\\\"}', 'features', '["a\\\\",1,"]"]'], // an escaped backslash before a closing quote
    ['{"features":[[1,2],[3]],"z":[]}', 'features', '[[1,2],[3]]'],
    ['{"features":"a \\\\ \\" b"}', 'features', '"a \\\\ \\" b"'],
    ['{"x":{"features":[1]}}', 'features', null], // nested members are not top-level members
    ['{}', 'features', null],
    ['[{"features":[1]}]', 'features', null],
    ['"features"', 'features', null],
  ];
  it.each(cases)('%j → member %s', (text, key, want) => {
    JSON.parse(text); // every case is valid JSON
    const got = jsonMemberText(text, key);
    expect(got).toBe(want);
    if (got !== null) expect(JSON.parse(got)).toEqual((JSON.parse(text) as Record<string, unknown>)[key]);
  });

  it('agrees with JSON.parse on random objects', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const value = (depth: number): unknown => {
      const r = rnd();
      if (depth > 2 || r < 0.3) return Math.round((rnd() - 0.5) * 1e6) / 1e3;
      if (r < 0.45) return ['', 'a"b', 'c\\d', '}{][,:', 'é\u2028'][Math.floor(rnd() * 5)];
      if (r < 0.55) return [true, false, null][Math.floor(rnd() * 3)];
      if (r < 0.8) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, (_, i) => [`k${i}`, value(depth + 1)]));
    };
    for (let n = 0; n < 500; n++) {
      const obj = { deployment: value(1), features: value(0), unit: value(2) };
      const text = rnd() < 0.5 ? JSON.stringify(obj) : JSON.stringify(obj, null, 2);
      const got = jsonMemberText(text, 'features');
      expect(got).not.toBeNull();
      expect(JSON.parse(got!)).toEqual(obj.features);
    }
  });
});
