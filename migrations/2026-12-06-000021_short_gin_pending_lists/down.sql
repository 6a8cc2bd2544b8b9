DO $$
DECLARE
    index_name regclass;
BEGIN
    FOR index_name IN
        SELECT i.indexrelid::regclass
          FROM pg_index AS i
          JOIN pg_class AS c ON c.oid = i.indexrelid
          JOIN pg_am AS a ON a.oid = c.relam
          JOIN pg_namespace AS n ON n.oid = c.relnamespace
         WHERE a.amname = 'gin' AND n.nspname = current_schema()
    LOOP
        EXECUTE format('ALTER INDEX %s RESET (gin_pending_list_limit)', index_name);
    END LOOP;
END $$;
