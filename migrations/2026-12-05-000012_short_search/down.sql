DROP INDEX organizations_search_grams_idx;
DROP INDEX people_search_grams_idx;
DROP FUNCTION search_term_grams(text);
DROP FUNCTION search_grams(text);
