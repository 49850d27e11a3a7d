import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfigFile } from '../../src/config/load.js';

describe('where each target came from', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'alertmux-sources-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('records the config file, a targets_dir file, and a targets_dir Secret directory', () => {
    const targets = join(dir, 'targets.d');
    mkdirSync(join(targets, 'mounted'), { recursive: true });
    writeFileSync(join(targets, 'audit.yml'), 'type: log\n');
    writeFileSync(join(targets, 'mounted', 'config'), 'type: webhook\nurl: https://hooks.example.com/x\n');
    const file = join(dir, 'alertmux.yml');
    writeFileSync(file, `storage: {path: ':memory:'}\ntargets_dir: targets.d\ntargets:\n  - {name: main, type: log}\n`);
    const config = loadConfigFile(file);
    expect(config.targets.map((t) => t.name)).to.deep.equal(['main', 'audit', 'mounted']);
    expect(config.sources).to.deep.equal({
      main: { kind: 'config', file },
      audit: { kind: 'targets_dir', file: join(targets, 'audit.yml') },
      mounted: { kind: 'targets_dir', file: join(targets, 'mounted', 'config') },
    });
  });
});
