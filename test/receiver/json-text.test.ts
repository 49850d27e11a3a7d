import { expect } from 'chai';
import { jsonDeeperThan, mayHaveLoneSurrogates, MAX_JSON_DEPTH, wellFormedJson } from '../../src/receiver/json-text.js';

describe('JSON checks', () => {
  describe('jsonDeeperThan', () => {
    const nested = (depth: number) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown;
    it('counts levels of arrays and objects, not brackets inside strings', () => {
      expect(jsonDeeperThan(1, 0)).to.equal(false);
      expect(jsonDeeperThan({}, 0)).to.equal(true);
      expect(jsonDeeperThan({}, 1)).to.equal(false);
      const four = JSON.parse('{"a":[1,{"b":[]}],"c":{},"s":"[[[[{{{{"}') as unknown;
      expect(jsonDeeperThan(four, 3)).to.equal(true);
      expect(jsonDeeperThan(four, 4)).to.equal(false);
    });

    it('answers for 6,000 levels without going deeper than the limit', () => {
      expect(jsonDeeperThan(nested(6000), MAX_JSON_DEPTH)).to.equal(true);
      expect(jsonDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).to.equal(false);
      expect(jsonDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).to.equal(true);
    });
  });

  describe('mayHaveLoneSurrogates', () => {
    it('notices escapes of surrogate halves in either case', () => {
      expect(mayHaveLoneSurrogates('{"a":"\\ud800"}')).to.equal(true);
      expect(mayHaveLoneSurrogates('{"\\uDFFF":"x"}')).to.equal(true);
      expect(mayHaveLoneSurrogates('"\\ud83d\\udd25"')).to.equal(true);
    });

    it('lets through text that cannot hold one', () => {
      expect(mayHaveLoneSurrogates('{"a":"\\u00e9 \\ud7ff \\ue000"}')).to.equal(false);
      expect(mayHaveLoneSurrogates('{"a":"🔥 \ufffd"}')).to.equal(false);
    });
  });

  describe('wellFormedJson', () => {
    it('replaces lone surrogates in values and keys by U+FFFD, as Go decodes them, and counts them', () => {
      const parsed: unknown = JSON.parse('{"labels":{"a":"x\\ud800y","\\udc00":"v","pair":"\\ud83d\\udd25"},"list":["\\udbff\\udbff",1,null]}');
      expect(wellFormedJson(parsed)).to.deep.equal({
        value: { labels: { a: 'x\ufffdy', '\ufffd': 'v', pair: '🔥' }, list: ['\ufffd\ufffd', 1, null] },
        replaced: 4,
      });
    });

    it('a high half followed by another escape: the half alone is replaced, as Go reads "\\ud800\\u0041"', () => {
      expect(wellFormedJson(JSON.parse('"\\ud800\\u0041"')).value).to.equal('\ufffdA');
    });

    it('keeps a "__proto__" key an own property, as JSON.parse made it', () => {
      const { value } = wellFormedJson(JSON.parse('{"__proto__":"\\ud800","b":1}'));
      expect(Object.hasOwn(value as object, '__proto__')).to.equal(true);
      expect(Object.getPrototypeOf(value)).to.equal(Object.prototype);
      expect(JSON.stringify(value)).to.equal('{"__proto__":"\ufffd","b":1}');
    });

    it('walks a body as deep as MAX_JSON_DEPTH', () => {
      let text = '"\\ud800"';
      for (let i = 0; i < MAX_JSON_DEPTH; i++) text = `[${text}]`;
      expect(wellFormedJson(JSON.parse(text)).replaced).to.equal(1);
    });
  });
});
