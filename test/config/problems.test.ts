import { expect } from 'chai';
import { fieldName, formatProblem, splitPointer } from '../../src/config/problems.js';
import { restartOnlyChanges } from '../../src/config/restart-only.js';
import { closest, distance } from '../../src/config/suggest.js';
import { parseYamlSource } from '../../src/config/yaml-source.js';
import { config } from '../helpers/fixtures.js';

describe('config problems', () => {
  describe('formatProblem', () => {
    it('writes file:line:col, the target, the field and the message, leaving out what is unknown', () => {
      expect(formatProblem({ message: 'is bad', file: 'a.yml', line: 3, column: 5, target: 'pd', field: 'routing_key' })).to.equal('a.yml:3:5: target "pd": routing_key: is bad');
      expect(formatProblem({ message: 'is bad', file: 'a.yml' })).to.equal('a.yml: is bad');
      expect(formatProblem({ message: 'is bad', line: 2, column: 1 })).to.equal('line 2:1: is bad');
      expect(formatProblem({ message: 'is bad', field: 'dispatch.timeout' })).to.equal('dispatch.timeout: is bad');
      expect(formatProblem({ message: 'is bad' })).to.equal('is bad');
    });

    it('names fields with dots and indexes, unescaping JSON pointers', () => {
      expect(fieldName('/targets/0/match/1')).to.equal('targets[0].match[1]');
      expect(fieldName('/enrich/links/a~1b~0c')).to.equal('enrich.links.a/b~c');
      expect(fieldName('')).to.equal('');
    });

    it('reads a leading JSON pointer off a check result', () => {
      expect(splitPointer('/deadman/targets/0: unknown target "x"')).to.deep.equal({ path: '/deadman/targets/0', message: 'unknown target "x"' });
      expect(splitPointer('a cycle: a -> b -> a')).to.deep.equal({ message: 'a cycle: a -> b -> a' });
    });
  });

  describe('closest', () => {
    it('suggests a known name one typo away, scaled to the length of the word', () => {
      expect(closest('webhok_url', ['url', 'webhook_url', 'token'])).to.equal('webhook_url');
      expect(closest('listn', ['listen', 'limits'])).to.equal('listen');
      expect(closest('tiemout', ['timeout'])).to.equal('timeout'); // a swap counts once
      expect(closest('Timeout', ['timeout'])).to.equal('timeout');
      expect(closest('colour', ['url', 'format', 'headers'])).to.equal(undefined);
      expect(closest('ab', ['xy'])).to.equal(undefined);
    });

    it('counts edits', () => {
      expect(distance('kitten', 'sitting')).to.equal(3);
      expect(distance('ab', 'ba')).to.equal(1);
      expect(distance('', 'abc')).to.equal(3);
    });
  });

  describe('parseYamlSource', () => {
    it('knows the line and column of any field, its key, or the nearest ancestor that exists', () => {
      const src = parseYamlSource('a:\n  b: [1, {c: x}]\nd: 1\n', 'f.yml');
      expect(src.errors).to.deep.equal([]);
      expect(src.locate('/a/b/1/c')).to.deep.equal({ line: 2, column: 14 });
      expect(src.locate('/a/b/1/c', true)).to.deep.equal({ line: 2, column: 11 });
      expect(src.locate('/d')).to.deep.equal({ line: 3, column: 4 });
      expect(src.locate('/a/missing/deeper')).to.deep.equal({ line: 2, column: 3 });
      expect(src.locate('')).to.deep.equal({ line: 1, column: 1 });
    });

    it('keeps what the former parser (js-yaml) read: merge keys, anchors, secret references as plain scalars; dates stay strings', () => {
      const src = parseYamlSource('base: &b {type: log, level: warn}\nt:\n  <<: *b\n  level: error\nu: ${env:X}\nd: 2026-01-01\nn: 30\n');
      expect(src.value).to.deep.equal({ base: { type: 'log', level: 'warn' }, t: { type: 'log', level: 'error' }, u: '${env:X}', d: '2026-01-01', n: 30 });
    });

    it('reports syntax errors and duplicate keys with their line, and several documents as an error', () => {
      expect(parseYamlSource('a: 1\na: 2\n', 'f.yml').errors).to.deep.equal([{ message: 'Map keys must be unique', file: 'f.yml', line: 2, column: 1 }]);
      expect(parseYamlSource('a: [\n').errors[0]).to.deep.include({ line: 2, column: 1 });
      expect(parseYamlSource('a: 1\n---\nb: 2\n').errors[0]!.message).to.match(/multiple documents/);
    });

    it('never quotes the text of the file in a syntax error (it may hold a secret)', () => {
      const errors = parseYamlSource('- a\nb: s3cret-value\n').errors;
      expect(errors.length).to.be.greaterThan(0);
      expect(JSON.stringify(errors)).not.to.contain('s3cret');
    });
  });

  describe('restartOnlyChanges', () => {
    it('names the settings read only at start that a reload changes', () => {
      const running = config('listen: 127.0.0.1:9095\nstorage: {path: ":memory:"}');
      expect(restartOnlyChanges(running, config('listen: 127.0.0.1:9095\nstorage: {path: ":memory:"}\nretry: {max_attempts: 3}\nlimits: {max_body_bytes: 2048}'))).to.deep.equal([]);
      expect(
        restartOnlyChanges(running, config('listen: 0.0.0.0:9095\nstorage: {path: x.db}\nlimits: {idle_timeout: 5s}\ndiscovery: {kubernetes: {}}', {}, '/tmp')),
      ).to.deep.equal(['listen', 'storage.path', 'limits.idle_timeout', 'discovery']);
    });
  });
});
