-- evaluate(search, settings): recall@10 against truth(query_id, ids) and wall time per query
-- of a search written as SQL with $1 = the real[] query, over every row of
-- queries(id, embedding), after running `settings` (e.g. SET LOCAL commands) if given.
-- Used by the demo and the SQL benchmark.
CREATE FUNCTION evaluate(search text, settings text DEFAULT '', OUT recall numeric, OUT ms_per_query numeric) AS $$
DECLARE
  q record;
  found int[];
  hits int := 0;
  started timestamptz := clock_timestamp();
BEGIN
  IF settings <> '' THEN
    EXECUTE settings;
  END IF;
  FOR q IN SELECT queries.embedding, truth.ids FROM queries JOIN truth ON truth.query_id = queries.id LOOP
    EXECUTE 'SELECT array_agg(id) FROM (' || search || ') s' INTO found USING q.embedding;
    hits := hits + cardinality(ARRAY(SELECT unnest(found) INTERSECT SELECT unnest(q.ids)));
  END LOOP;
  ms_per_query := round((extract(epoch FROM clock_timestamp() - started) * 1000 / (SELECT count(*) FROM queries))::numeric, 2);
  recall := round(hits / (10.0 * (SELECT count(*) FROM queries)), 3);
END $$ LANGUAGE plpgsql;
