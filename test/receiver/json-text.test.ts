import { expect } from 'chai';
import { MAX_JSON_DEPTH, scanJsonText, wellFormedJson } from '../../src/receiver/json-text.js';

describe('JSON text checks', () => {
  describe('scanJsonText', () => {
    it('measures the deepest nesting of arrays and objects, not brackets inside strings', () => {
      expect(scanJsonText('1').depth).to.equal(0);
      expect(scanJsonText('{"a":[1,{"b":[]}],"c":{}}').depth).to.equal(4);
      expect(scanJsonText('{"a":"[[[[{{{{","b":"\\"[["}').depth).to.equal(1);
      expect(scanJsonText(`${'['.repeat(6000)}${']'.repeat(6000)}`).depth).to.equal(6000);
    });

    it('notices escapes of surrogate halves in either case, and nothing else', () => {
      expect(scanJsonText('{"a":"\\ud800"}').surrogateEscapes).to.equal(true);
      expect(scanJsonText('{"\\uDFFF":"x"}').surrogateEscapes).to.equal(true);
      expect(scanJsonText('"\\ud83d\\udd25"').surrogateEscapes).to.equal(true);
      expect(scanJsonText('{"a":"\\u00e9 \\ud7ff \\ue000"}').surrogateEscapes).to.equal(false);
      // An escaped backslash followed by the letters "ud800" is text, not an escape.
      expect(scanJsonText('{"a":"\\\\ud800"}').surrogateEscapes).to.equal(false);
      expect(scanJsonText('{"a":"🔥"}').surrogateEscapes).to.equal(false);
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
