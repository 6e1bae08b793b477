'use strict';
// quantvec from Node with pg, against a real server (PGHOST/PGPORT/PGUSER/PGDATABASE).
// Run: NODE_PATH=<dir with pg installed>/node_modules node --test clients/node/test.js

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const pg = require('pg');
const { Int8Vec, realArray, registerTypes } = require('./quantvec');

const DIM = 8;
const client = new pg.Client();
// A seeded generator, so a failure reproduces.
let seed = 5;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
const vectors = Array.from({ length: 100 }, () => Array.from({ length: DIM }, random));

function cosineDistance(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return 1 - dot / Math.sqrt(na * nb);
}

before(async () => {
  await client.connect();
  await registerTypes(client);
  await client.query('DROP TABLE IF EXISTS nd_items');
  await client.query(`CREATE TABLE nd_items (id int PRIMARY KEY, embedding int8vec(${DIM}), signs bitvec(${DIM}))`);
  for (const [id, v] of vectors.entries()) {
    // Floats go in as real[]; the server quantizes them on assignment.
    const signs = v.map((x) => (x > 0 ? '1' : '0')).join('');
    await client.query('INSERT INTO nd_items VALUES ($1, $2::real[], $3)', [id, realArray(v), signs]);
  }
  await client.query('INSERT INTO nd_items VALUES (-1, NULL, NULL)');
});

after(() => client.end());

test('values come back as Int8Vec objects and bit strings', async () => {
  const { rows } = await client.query(
    'SELECT embedding, signs, int8vec_scale(embedding) AS scale, int8vec_zero_point(embedding) AS zero, ' +
      'int8vec_codes(embedding) AS codes FROM nd_items WHERE id = 3'
  );
  const [{ embedding, signs, scale, zero, codes }] = rows;
  assert.ok(embedding instanceof Int8Vec);
  assert.equal(embedding.scale, Math.fround(scale));
  assert.equal(embedding.zeroPoint, zero);
  assert.deepEqual(Array.from(embedding.codes), codes);
  const floats = embedding.toFloats();
  assert.equal(floats.length, DIM);
  floats.forEach((f, i) => assert.ok(Math.abs(f - vectors[3][i]) <= embedding.scale, `dimension ${i}`));
  assert.equal(signs, vectors[3].map((x) => (x > 0 ? '1' : '0')).join(''));
  const nulls = await client.query('SELECT embedding, signs FROM nd_items WHERE id = -1');
  assert.deepEqual(nulls.rows[0], { embedding: null, signs: null });
});

test('Int8Vec parameters round-trip exactly', async () => {
  const value = new Int8Vec(0.0078125, -3, [1, -128, 127, 0]);
  assert.equal(value.toString(), '(0.0078125,-3)[1,-128,127,0]');
  const { rows } = await client.query('SELECT $1::int8vec AS v, $1::int8vec::text AS t', [value]);
  assert.deepEqual(rows[0].v, value);
  assert.equal(rows[0].t, value.toString()); // the server prints what toString() does
  const stored = (await client.query('SELECT embedding FROM nd_items WHERE id = 4')).rows[0].embedding;
  const again = (await client.query('SELECT $1::int8vec AS v', [stored])).rows[0].v;
  assert.deepEqual(again, stored);
  assert.equal((await client.query("SELECT $1::bitvec <~> '10110001' AS d", ['00110001'])).rows[0].d, 1);
});

test('ORDER BY <=> with a float query', async () => {
  const query = vectors[42];
  const { rows } = await client.query(
    'SELECT id, embedding, embedding <=> $1::real[] AS d FROM nd_items ORDER BY embedding <=> $1::real[] LIMIT 5',
    [realArray(query)]
  );
  assert.equal(rows[0].id, 42);
  // The server scores the dequantized rows against the full-precision query: so does this.
  const expected = (await client.query('SELECT id, embedding FROM nd_items WHERE id >= 0')).rows
    .map((r) => ({ id: r.id, d: cosineDistance(r.embedding.toFloats(), query) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 5);
  assert.deepEqual(rows.map((r) => r.id), expected.map((e) => e.id));
  rows.forEach((r, i) => assert.ok(Math.abs(r.d - expected[i].d) < 1e-5, `distance of ${r.id}`));
});

test('realArray refuses what the server would', () => {
  assert.equal(realArray([1, -0.5, 2e-3]), '{1,-0.5,0.002}');
  assert.equal(realArray(new Float32Array([0.5])), '{0.5}');
  assert.throws(() => realArray([1, NaN]), RangeError);
});
