import { expect } from 'chai';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { targetSchema, type BaseTarget, type TargetKind, type TargetKinds } from '../../src/config/target.js';
import { targetKinds } from '../../src/publishers/registry.js';

interface EchoTarget extends BaseTarget {
  type: 'echo';
  greeting: string;
  out: string;
}

/** A target type the code has never heard of: the loader must take everything it knows of it from the descriptor. */
const echo: TargetKind<EchoTarget> = {
  type: 'echo',
  schema: targetSchema('echo', 'Test kind.', { greeting: { type: 'string', default: 'hi' }, out: { type: 'string', default: 'echo.log' } }, []),
  check(target, report) {
    if (target.greeting === 'bye') report('greeting', 'must not say bye');
  },
  compileTemplates(target, report) {
    if (target.greeting.includes('{{')) report('greeting', 'no templates here');
  },
  resolvePaths(target, baseDir) {
    target.out = `${baseDir}/${target.out}`;
  },
};
const kinds: TargetKinds = [echo as TargetKind];
const load = (text: string, list: TargetKinds = kinds) => parseConfig(text, { env: {}, baseDir: '/etc/alertmux', kinds: list });
const problems = (text: string): readonly string[] => {
  try {
    load(text);
  } catch (err) {
    return (err as ConfigError).details;
  }
  expect.fail('the config was accepted');
};

describe('the config loader and the target kinds it is given', () => {
  it('validates a kind by its descriptor: schema defaults, then its path hook', () => {
    const target = load('targets: [{name: e, type: echo}]').targets[0] as unknown as EchoTarget;
    expect(target).to.include({ type: 'echo', greeting: 'hi', out: '/etc/alertmux/echo.log', enabled: true });
  });

  it("reports the kind's own checks and template problems at the target's path, every problem at once", () => {
    expect(problems('targets: [{name: a, type: echo, greeting: bye}, {name: b, type: echo, greeting: "{{x"}]')).to.deep.equal([
      'line 1:43: target "a": greeting: must not say bye',
      'line 1:81: target "b": greeting: no templates here',
    ]);
  });

  it('skips a hook that throws on a shape the schema rejected, and reports the schema problem', () => {
    const fragile: TargetKind = { ...(echo as TargetKind), check: (t) => void (t as unknown as { greeting: string }).greeting.trim() };
    const list: TargetKinds = [fragile];
    expect(() => load('targets: [{name: e, type: echo, greeting: 3}]', list)).to.throw(ConfigError, /greeting: must be string/);
  });

  it('knows only the kinds it is given', () => {
    expect(problems('targets: [{name: w, type: webhook, url: "http://x"}]')).to.deep.equal(['line 1:27: target "w": type: unknown target type "webhook" (one of echo)']);
    expect(() => load('targets: [{name: e, type: echo}]', targetKinds)).to.throw(ConfigError, /unknown target type "echo"/);
  });

  it('is given every registered kind by the registry, each with the type its schema selects', () => {
    for (const kind of targetKinds) {
      const schema = kind.schema as { properties: { type: { const: string } } };
      expect(schema.properties.type.const, kind.type).to.equal(kind.type);
    }
    expect(new Set(targetKinds.map((k) => k.type)).size).to.equal(targetKinds.length);
  });
});
