DROP TABLE organizations;
DROP FUNCTION names_search_text(text, jsonb);
