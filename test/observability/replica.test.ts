import { expect } from 'chai';
import { replicaName } from '../../src/observability/replica.js';

describe("the replica's name", () => {
  const host = () => 'node-7';
  it('is the config\'s `replica` first, then ALERTMUX_REPLICA, then the host name', () => {
    expect(replicaName('pod-a', { ALERTMUX_REPLICA: 'env-b' }, host)).to.equal('pod-a');
    expect(replicaName(undefined, { ALERTMUX_REPLICA: 'env-b' }, host)).to.equal('env-b');
    expect(replicaName(undefined, { ALERTMUX_REPLICA: '' }, host)).to.equal('node-7');
    expect(replicaName(undefined, {}, host)).to.equal('node-7');
  });
});
