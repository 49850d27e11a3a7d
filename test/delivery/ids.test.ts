import { expect } from 'chai';
import { uuidv7 } from '../../src/delivery/ids.js';

describe('uuidv7', () => {
  it('is a version 7, RFC variant UUID', () => {
    expect(uuidv7()).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('starts with the time in milliseconds, so later ids sort after earlier ones', () => {
    const at = Date.UTC(2026, 0, 1);
    expect(uuidv7(at).replace('-', '').slice(0, 12)).to.equal(at.toString(16).padStart(12, '0'));
    expect(uuidv7(at + 1) > uuidv7(at)).to.equal(true);
  });

  it('differs between ids of the same millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => uuidv7(0)));
    expect(ids.size).to.equal(1000);
  });
});
