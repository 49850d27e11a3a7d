import { expect } from 'chai';
import { ConfigError } from '../../src/config/load.js';
import { compileMessage, defaultText, defaultTitle, groupLinks, templateView } from '../../src/publishers/templates.js';
import { alert, config, fixture } from '../helpers/fixtures.js';

describe('message templates', () => {
  describe('defaults', () => {
    it('titles a firing group like Alertmanager: [FIRING:count] name (severity)', () => {
      expect(defaultTitle(templateView(fixture()))).to.equal('[FIRING:2] TestAlert (critical)');
    });

    it('titles a resolved group [RESOLVED] with the most telling common label', () => {
      expect(defaultTitle(templateView(fixture('am025-all-resolved.json')))).to.equal('[RESOLVED] DiskFull node (critical)');
    });

    it('leaves the severity out of the title when no alert has one', () => {
      const msg = { ...fixture(), alerts: [alert({ alertname: 'Watchdog' })], commonLabels: { alertname: 'Watchdog' } };
      expect(defaultTitle(templateView(msg))).to.equal('[FIRING:1] Watchdog');
    });

    it('counts firing and resolved alerts of a mixed group', () => {
      const view = templateView(fixture('am025-mixed-firing-resolved.json'));
      expect(view).to.include({ numFiring: 2, numResolved: 1, severity: 'critical', name: 'DiskFull node' });
    });

    it('writes one block per alert: status mark and summary, description, and the labels not common to all', () => {
      expect(defaultText(templateView(fixture('am025-mixed-firing-resolved.json')))).to.equal(
        [
          '🔥 Disk almost full on db-1:9100\nFilesystem /var has less than 5% space left.\ninstance=db-1:9100 severity=critical',
          '🔥 Disk almost full on db-2:9100\nFilesystem /var has less than 5% space left.\ninstance=db-2:9100 severity=warning',
          '✅ Disk almost full on web-1:9100\nFilesystem /var has less than 5% space left.\ninstance=web-1:9100 severity=warning',
        ].join('\n\n'),
      );
    });

    it('uses the defaults when a target has no template', () => {
      expect(compileMessage(undefined)(fixture())).to.deep.equal({
        title: '[FIRING:2] TestAlert (critical)',
        text: '🔥 test summary\ninstance=host1 severity=critical\n\n🔥 test summary\ninstance=host2 severity=warning',
        customText: false,
      });
    });
  });

  describe('custom Handlebars templates', () => {
    it('renders title and text from the view, with the upper helper and without HTML escaping', () => {
      const render = compileMessage({
        title: '{{upper status}} {{numFiring}}/{{alerts.length}} {{commonLabels.alertname}} & <co>',
        text: '{{#each firing}}{{labels.instance}}{{#unless @last}}, {{/unless}}{{/each}} ({{severity}})',
      });
      const rendered = render(fixture());
      expect(rendered.title).to.equal('FIRING 2/2 TestAlert & <co>');
      expect(rendered.text).to.equal('host1, host2 (critical)');
    });

    it('falls back to the default text when only the title is templated', () => {
      const rendered = compileMessage({ title: '{{name}}' })(fixture('am025-all-resolved.json'));
      expect(rendered.title).to.equal('DiskFull node');
      expect(rendered.text).to.match(/^✅ Disk almost full on db-1:9100/);
    });

    it('says whether the text is the custom template', () => {
      expect(compileMessage({ text: '{{name}}' })(fixture()).customText).to.equal(true);
      expect(compileMessage({ title: '{{name}}' })(fixture()).customText).to.equal(false);
    });

    it('falls back to the default of a part that throws while rendering, and reports it', () => {
      // A missing helper in a branch: the check at compile time renders with no data, so the branch never ran.
      const errors: string[] = [];
      const render = compileMessage({ title: '{{#if status}}{{nope status}}{{/if}}', text: '{{name}}' }, (part, err) => errors.push(`${part}: ${String(err)}`));
      expect(render(fixture())).to.deep.equal({ title: '[FIRING:2] TestAlert (critical)', text: 'TestAlert', customText: true });
      expect(errors).to.have.length(1);
      expect(errors[0]).to.match(/^title: Error: Missing helper: "nope"/);
      const text = compileMessage({ text: '{{#if status}}{{nope 1}}{{/if}}' }, () => undefined)(fixture());
      expect(text).to.include({ customText: false }).and.to.have.property('text').that.matches(/^🔥 test summary/);
    });

    it('throws on a syntax error when compiled, not when a message is sent', () => {
      expect(() => compileMessage({ title: '{{#if status}}unclosed' })).to.throw(/Parse error/);
      expect(() => compileMessage({ text: '{{#each alerts}}x{{/if}}' })).to.throw(/each doesn't match if/);
    });
  });

  describe('at config load', () => {
    const yaml = (template: string) => `
targets:
  - name: teams-ops
    type: teams
    webhook_url: https://example.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=s
  - name: discord-ops
    type: discord
    webhook_url: https://discord.com/api/webhooks/1/t
    template: ${template}
`;

    it('accepts a target with a valid template', () => {
      const loaded = config(yaml(`{title: "{{name}}", text: "{{#each alerts}}{{labels.instance}}{{/each}}"}`));
      expect(loaded.targets[1]).to.deep.include({ template: { title: '{{name}}', text: '{{#each alerts}}{{labels.instance}}{{/each}}' } });
    });

    it('reports a template syntax error with its path', () => {
      expect(() => config(yaml(`{title: "ok", text: "{{#if status}}unclosed"}`)))
        .to.throw(ConfigError, /target "[a-z-]+": template\.text: Parse error on line 1: Expecting .*got 'EOF'/)
        .and.not.to.match(/template\/title/);
    });

    it('rejects unknown template fields through the schema', () => {
      expect(() => config(yaml(`{body: "x"}`))).to.throw(ConfigError, /target "[a-z-]+": template: unknown field `body`/);
    });
  });

  describe('links', () => {
    it('collects runbook, dashboard, silence and source links once each, http(s) only', () => {
      const msg = fixture('am025-all-resolved.json');
      msg.alerts[0]!.annotations['dashboard_url'] = 'https://grafana.example/d/disk';
      msg.alerts[1]!.annotations['silence_url'] = 'javascript:alert(1)';
      expect(groupLinks(msg)).to.deep.equal([
        { text: 'Runbook', href: 'https://runbooks.example.internal/disk-full' },
        { text: 'Dashboard', href: 'https://grafana.example/d/disk' },
        {
          text: 'Source',
          href: 'http://prometheus.example.internal:9090/graph?g0.expr=node_filesystem_avail_bytes+%2F+node_filesystem_size_bytes+%3C+0.05',
        },
      ]);
    });
  });
});
