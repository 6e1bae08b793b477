'use strict';
// node-postgres (pg) support for quantvec's int8vec and bitvec.
//
//   const { registerTypes, realArray } = require('./quantvec');
//   await registerTypes(client);          // int8vec columns now read as Int8Vec objects
//   await client.query('SELECT id FROM items ORDER BY embedding <=> $1::real[] LIMIT 5', [realArray(query)]);
//
// Float vectors travel as real[] (the server quantizes them into int8vec columns on
// assignment, and scores them at full precision as queries); Int8Vec objects in the text
// form '(scale,zero_point)[codes]', bitvecs as strings of '0' and '1'.

class Int8Vec {
  // f ≈ scale · (code − zeroPoint); scale is a float32 on the server.
  constructor(scale, zeroPoint, codes) {
    this.scale = Math.fround(scale);
    this.zeroPoint = zeroPoint;
    this.codes = Int8Array.from(codes);
  }

  static fromSql(text) {
    const match = /^\s*\(([^,]+),([^)]+)\)\s*\[([^\]]*)\]\s*$/.exec(text);
    if (!match) throw new Error(`not an int8vec: ${text}`);
    const codes = match[3].trim() === '' ? [] : match[3].split(',').map(Number);
    return new Int8Vec(Number(match[1]), Number(match[2]), codes);
  }

  toFloats() {
    return Array.from(this.codes, (c) => this.scale * (c - this.zeroPoint));
  }

  // The shortest decimal that reads back as the same float32, as the server prints it.
  toString() {
    let scale = String(this.scale);
    for (let digits = 1; digits <= 9; digits++) {
      const text = this.scale.toPrecision(digits);
      if (Math.fround(Number(text)) === this.scale) {
        scale = String(Number(text));
        break;
      }
    }
    return `(${scale},${this.zeroPoint})[${this.codes.join(',')}]`;
  }

  // pg calls toPostgres() on objects passed as query parameters.
  toPostgres() {
    return this.toString();
  }
}

// A float array as a real[] literal, for `$1::real[]`; refuses what the server would reject
// anyway (NaN, infinities) with a clearer message, before a round trip.
function realArray(values) {
  const floats = Array.from(values, Number);
  if (floats.some((v) => !Number.isFinite(v))) throw new RangeError('real[] query vectors need finite values');
  return `{${floats.join(',')}}`;
}

// Looks up the types' OIDs (they differ per database) and registers text parsers for them on
// this client. With a pg.Pool, call it from pool.on('connect', ...).
async function registerTypes(client) {
  const { rows } = await client.query(
    "SELECT to_regtype('int8vec')::oid AS int8vec, to_regtype('bitvec')::oid AS bitvec"
  );
  const { int8vec, bitvec } = rows[0];
  if (int8vec == null || bitvec == null) throw new Error('quantvec types not found: CREATE EXTENSION quantvec first');
  client.setTypeParser(Number(int8vec), 'text', Int8Vec.fromSql);
  client.setTypeParser(Number(bitvec), 'text', String);
}

module.exports = { Int8Vec, realArray, registerTypes };
