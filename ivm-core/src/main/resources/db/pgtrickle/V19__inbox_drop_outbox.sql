-- drop_inbox is refused before it starts when one of the inbox's own stream tables has an outbox:
-- dropping it would drop the outbox with its undelivered entries, which drop_stream_table refuses
-- unless told to cascade. Refusing at the call, rather than when the engine reaches that stream
-- table, leaves the inbox ACTIVE and whole instead of half dropped.
CREATE OR REPLACE FUNCTION pgtrickle._mark_inbox_dropping(name text, if_exists boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    i pgtrickle.pgt_inboxes;
    readers text;
    with_outbox text;
BEGIN
    BEGIN
        i := pgtrickle._inbox(name);
    EXCEPTION WHEN undefined_object THEN
        IF if_exists THEN
            RAISE NOTICE 'inbox % does not exist, skipping', name;
            RETURN NULL;
        END IF;
        RAISE;
    END;
    readers := pgtrickle._inbox_foreign_readers(i);
    IF readers IS NOT NULL THEN
        RAISE EXCEPTION 'cannot drop inbox %: stream tables % read it', i.inbox_name, readers USING ERRCODE = '2BP01',
            HINT = 'drop those stream tables first';
    END IF;
    SELECT string_agg(quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name), ', ' ORDER BY s.pgt_name)
      INTO with_outbox
      FROM pgtrickle.pgt_inbox_stream_tables o
      JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = o.pgt_id
      JOIN pgtrickle.pgt_outbox_config x ON x.pgt_id = o.pgt_id
     WHERE o.inbox_name = i.inbox_name;
    IF with_outbox IS NOT NULL THEN
        RAISE EXCEPTION 'cannot drop inbox %: its stream tables % have an outbox', i.inbox_name, with_outbox
            USING ERRCODE = '2BP01',
            HINT = 'disable_outbox on them first (cascade => true also drops their consumer groups)';
    END IF;
    UPDATE pgtrickle.pgt_inboxes b SET state = 'DROPPING' WHERE b.inbox_name = i.inbox_name;
    RETURN pgtrickle._inbox_table(i);
END $$;
