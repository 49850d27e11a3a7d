import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const PROMETHEUS = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'examples', 'prometheus');

describe('the webhook rejection alert rules', () => {
  it("fire and stay quiet as their promtool unit tests say (promtool from Debian's prometheus package; required under CI)", function () {
    if (spawnSync('promtool', ['--version']).error) {
      if (process.env['CI']) throw new Error('CI is set but promtool is not on PATH: .ci/run must apt-get install prometheus');
      console.log('      (skipped: no promtool on PATH; apt-get install prometheus to run it)');
      this.skip();
    }
    const result = spawnSync('promtool', ['test', 'rules', 'alertmux-webhook-rules.test.yml'], { cwd: PROMETHEUS, encoding: 'utf8' });
    expect(result.status, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.include('SUCCESS');
  });
});
