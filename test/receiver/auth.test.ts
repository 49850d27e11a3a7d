import { expect } from 'chai';
import type { NextFunction, Request, Response } from 'express';
import { authorized, requireAuth, safeEqual, type AuthRule } from '../../src/receiver/auth.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('inbound auth', () => {
  describe('safeEqual', () => {
    it('compares strings of any length', () => {
      expect(safeEqual('abc', 'abc')).to.equal(true);
      expect(safeEqual('abc', 'abd')).to.equal(false);
      expect(safeEqual('abc', 'abcd')).to.equal(false);
      expect(safeEqual('', '')).to.equal(true);
    });
  });

  describe('authorized', () => {
    const bearer: AuthRule = { bearer_token: 's3cret-token' };
    const basicRule: AuthRule = { basic_auth: { username: 'alertmanager', password: 'p:ss word' } };
    const both: AuthRule = { ...bearer, ...basicRule };

    const table: Array<[what: string, rule: AuthRule, header: string | undefined, expected: boolean]> = [
      ['no rule, no header', {}, undefined, true],
      ['no rule, any header', {}, 'Bearer whatever', true],
      ['bearer: right token', bearer, 'Bearer s3cret-token', true],
      ['bearer: scheme in any case', bearer, 'bearer s3cret-token', true],
      ['bearer: wrong token', bearer, 'Bearer s3cret-tokem', false],
      ['bearer: prefix of the token', bearer, 'Bearer s3cret', false],
      ['bearer: missing header', bearer, undefined, false],
      ['bearer: empty header', bearer, '', false],
      ['bearer: no token', bearer, 'Bearer', false],
      ['bearer: basic credentials instead', bearer, basic('alertmanager', 's3cret-token'), false],
      ['basic: right credentials (password with ":" and a space)', basicRule, basic('alertmanager', 'p:ss word'), true],
      ['basic: wrong password', basicRule, basic('alertmanager', 'p:ss w0rd'), false],
      ['basic: wrong user', basicRule, basic('prometheus', 'p:ss word'), false],
      ['basic: missing header', basicRule, undefined, false],
      ['basic: not base64', basicRule, 'Basic %%%', false],
      ['basic: a bearer token instead', basicRule, 'Bearer p:ss word', false],
      ['both: right bearer', both, 'Bearer s3cret-token', true],
      ['both: right basic', both, basic('alertmanager', 'p:ss word'), true],
      ['both: wrong bearer', both, 'Bearer nope', false],
      ['both: wrong basic', both, basic('alertmanager', 'nope'), false],
      ['both: unknown scheme', both, 'Digest s3cret-token', false],
    ];
    for (const [what, rule, header, expected] of table) {
      it(`${expected ? 'accepts' : 'refuses'} ${what}`, () => {
        expect(authorized(rule, header)).to.equal(expected);
      });
    }
  });

  describe('requireAuth middleware', () => {
    function run(rule: AuthRule, authorization?: string) {
      const res = { status: 0, headers: {} as Record<string, string>, body: undefined as unknown };
      const response = {
        setHeader(name: string, value: string) {
          res.headers[name] = value;
          return this;
        },
        status(code: number) {
          res.status = code;
          return this;
        },
        json(body: unknown) {
          res.body = body;
          return this;
        },
      } as unknown as Response;
      let passed = false;
      const next: NextFunction = () => void (passed = true);
      requireAuth(() => rule)({ headers: { authorization } } as Request, response, next);
      return { passed, ...res };
    }

    it('lets an authorized request through', () => {
      expect(run({ bearer_token: 't' }, 'Bearer t')).to.deep.include({ passed: true, status: 0 });
    });

    it('answers 401 with a Bearer challenge when a token is expected', () => {
      const r = run({ bearer_token: 't' }, 'Bearer x');
      expect(r).to.deep.include({ passed: false, status: 401, body: { error: 'unauthorized' } });
      expect(r.headers['WWW-Authenticate']).to.equal('Bearer realm="alertmux"');
    });

    it('answers 401 with a Basic challenge when only basic auth is expected', () => {
      const r = run({ basic_auth: { username: 'u', password: 'p' } });
      expect(r.status).to.equal(401);
      expect(r.headers['WWW-Authenticate']).to.equal('Basic realm="alertmux"');
    });

    it('reads the rule on every request, so a reload applies at once', () => {
      let rule: AuthRule = { bearer_token: 'old' };
      const middleware = requireAuth(() => rule);
      const call = (token: string) => {
        let passed = false;
        const response = { setHeader: () => response, status: () => response, json: () => response } as unknown as Response;
        middleware({ headers: { authorization: `Bearer ${token}` } } as Request, response, () => void (passed = true));
        return passed;
      };
      expect(call('old')).to.equal(true);
      rule = { bearer_token: 'new' };
      expect(call('old')).to.equal(false);
      expect(call('new')).to.equal(true);
    });
  });
});
