import { expect } from 'chai';
import { messageJson } from '../../src/alerts/json.js';
import { fixture } from '../helpers/fixtures.js';

describe('messageJson', () => {
  it('is the JSON of the message', () => {
    const msg = fixture();
    expect(messageJson(msg)).to.equal(JSON.stringify(msg));
  });

  it('serialises one message object once, however often it is asked', () => {
    let calls = 0;
    const msg = { toJSON: () => ({ receiver: 'a', n: ++calls }) };
    expect(messageJson(msg)).to.equal(messageJson(msg));
    expect(calls).to.equal(1);
  });

  it('keeps equal but distinct messages apart', () => {
    const a = fixture();
    const b = { ...fixture(), receiver: 'other' };
    expect(JSON.parse(messageJson(a)).receiver).to.not.equal(JSON.parse(messageJson(b)).receiver);
  });
});
