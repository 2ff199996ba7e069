-- Schedules may be cron expressions: the SQL functions let their shape through (a macro, a
-- CRON_TZ= prefix, or five to seven fields) and the engine, which parses them with cron-utils,
-- refuses an invalid one with the reason.
CREATE OR REPLACE FUNCTION pgtrickle._check_schedule(schedule text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF schedule IS NULL OR lower(btrim(schedule)) = 'calculated'
       OR btrim(schedule) ~ '^([0-9]+(ms|s|m|h|d))+$'
       OR btrim(schedule) ~ '^@[A-Za-z]+$'
       OR btrim(schedule) ~* '^(CRON_TZ=\S+\s+)?(@[A-Za-z]+|\S+(\s+\S+){4,6})$' THEN
        RETURN;
    END IF;
    RAISE EXCEPTION 'invalid schedule "%"', schedule USING ERRCODE = '22023',
        HINT = 'use a duration such as 30s, 5m or 1h30m, a cron expression such as ''*/5 * * * *'' or ''@hourly'', or ''calculated''';
END $$;
