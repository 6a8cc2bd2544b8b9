-- Searches of one or two characters (most Chinese personal names are two
-- or three): pg_trgm indexes terms of three characters or more, so people
-- and organizations are also indexed by the unigrams and bigrams of their
-- names (lower-cased, as ILIKE compares). A search looks up the grams its
-- term must have, then rechecks the substring.

-- Every character and every pair of adjacent characters of `value`,
-- lower-cased.
CREATE FUNCTION search_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT coalesce(array_agg(DISTINCT gram), '{}')
    FROM (SELECT substr(lower(value), i, 1) AS gram
            FROM generate_series(1, char_length(lower(value))) AS i
          UNION ALL
          SELECT substr(lower(value), i, 2)
            FROM generate_series(1, char_length(lower(value)) - 1) AS i) AS grams $$;

-- The grams a text containing `term` has: the term's bigrams, or its one
-- character.
CREATE FUNCTION search_term_grams(term text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT CASE WHEN char_length(lower(term)) <= 1 THEN ARRAY[lower(term)]
         ELSE (SELECT array_agg(DISTINCT substr(lower(term), i, 2))
                 FROM generate_series(1, char_length(lower(term)) - 1) AS i)
         END $$;

CREATE INDEX people_search_grams_idx ON people USING gin (search_grams(search_text));
CREATE INDEX organizations_search_grams_idx ON organizations USING gin (search_grams(search_text));
