package io.pgtrickle.core.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Refresh at the times of a cron expression (parsed and evaluated by cron-utils): five fields
 * (minute hour day-of-month month day-of-week, as crontab), six (seconds first, as Spring and
 * Quartz without the year), or a macro ({@code @hourly}, {@code @daily}, {@code @midnight},
 * {@code @weekly}, {@code @monthly}, {@code @yearly}, {@code @annually}). Times are UTC unless the
 * expression starts with {@code CRON_TZ=<zone> }, as in cronie. A stream table is due when the
 * latest firing at or before now is later than its last refresh.
 *
 * @param text the expression as given, whitespace normalised (the catalog keeps it)
 */
public record CronSchedule(String text, ZoneId zone, Cron cron) implements Schedule {
    private static final Pattern ZONE_PREFIX = Pattern.compile("(?i)^CRON_TZ=(\\S+)\\s+(.+)$");
    private static final Pattern FIELD = Pattern.compile("[0-9A-Za-z*/,?#\\-]+");
    private static final Map<String, String> MACROS = Map.of(
            "@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *", "@monthly", "0 0 1 * *", "@weekly", "0 0 * * 0",
            "@daily", "0 0 * * *", "@midnight", "0 0 * * *", "@hourly", "0 * * * *");
    private static final CronParser FIVE = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
    private static final CronParser SIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING53));

    public CronSchedule {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(zone, "zone");
        Objects.requireNonNull(cron, "cron");
    }

    /** Whether {@code text} is meant as cron (a macro, a zone prefix, or five or six fields), right or wrong. */
    static boolean looksLikeCron(String text) {
        String s = text.strip();
        if (s.startsWith("@") || ZONE_PREFIX.matcher(s).matches()) {
            return true;
        }
        String[] fields = s.split("\\s+");
        return fields.length >= 5 && fields.length <= 7;
    }

    /** Parses a cron schedule; an invalid one is refused with cron-utils' reason and the accepted forms. */
    static CronSchedule parse(String text) {
        String s = text.strip().replaceAll("\\s+", " ");
        ZoneId zone = ZoneOffset.UTC;
        Matcher m = ZONE_PREFIX.matcher(s);
        String expression = s;
        if (m.matches()) {
            try {
                zone = ZoneId.of(m.group(1));
            } catch (DateTimeException e) {
                throw invalid(text, "unknown time zone \"" + m.group(1) + "\" (use an IANA name such as Europe/Oslo)");
            }
            expression = m.group(2);
        }
        String macro = MACROS.get(expression.toLowerCase(Locale.ROOT));
        if (expression.startsWith("@") && macro == null) {
            throw invalid(text, "unknown macro " + expression + " (use @hourly, @daily, @midnight, @weekly, @monthly,"
                    + " @yearly or @annually)");
        }
        String cronText = macro != null ? macro : expression;
        String[] fields = cronText.split(" ");
        if (fields.length != 5 && fields.length != 6) {
            throw invalid(text, fields.length + " fields (use 5: minute hour day-of-month month day-of-week, or 6 with"
                    + " seconds first)");
        }
        for (String f : fields) {
            if (!FIELD.matcher(f).matches()) {
                throw invalid(text, "field \"" + f + "\" has characters cron does not use");
            }
        }
        try {
            Cron cron = (fields.length == 5 ? FIVE : SIX).parse(cronText).validate();
            CronSchedule schedule = new CronSchedule(s, zone, cron);
            if (schedule.next(Instant.now()).isEmpty()) {
                throw invalid(text, "it never fires");
            }
            return schedule;
        } catch (IllegalArgumentException e) {
            throw invalid(text, e.getMessage());
        }
    }

    private static PgTrickleException invalid(String text, String reason) {
        return new PgTrickleException(ErrorCode.INVALID_SCHEDULE, "invalid cron schedule \"" + text.strip() + "\": "
                + reason + "; examples: '*/5 * * * *' (every 5 minutes), '0 30 2 * * *' (02:30:00 daily), '@hourly',"
                + " 'CRON_TZ=Europe/Oslo 0 6 * * 1-5'");
    }

    /** The latest firing at or before {@code at}, if any. */
    Optional<Instant> last(Instant at) {
        ExecutionTime times = ExecutionTime.forCron(cron);
        ZonedDateTime t = at.atZone(zone);
        if (times.isMatch(t.withNano(0))) {
            return Optional.of(t.withNano(0).toInstant());
        }
        return times.lastExecution(t).map(ZonedDateTime::toInstant);
    }

    /** The first firing after {@code at}, if any. */
    Optional<Instant> next(Instant at) {
        return ExecutionTime.forCron(cron).nextExecution(at.atZone(zone)).map(ZonedDateTime::toInstant);
    }

    /** Due once the cron fired after the last refresh (never refreshed: now). */
    @Override
    public boolean dueAt(Instant lastRefresh, Instant now) {
        if (lastRefresh == null) {
            return true;
        }
        return last(now).map(fired -> fired.isAfter(lastRefresh)).orElse(false);
    }

    /** The gap between the next two firings: what a CALCULATED source of this stream table inherits. */
    @Override
    public Optional<Duration> period() {
        Instant now = Instant.now();
        Optional<Instant> first = next(now);
        Optional<Instant> second = first.flatMap(this::next);
        return second.map(s -> Duration.between(first.get(), s));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CronSchedule other && text.equals(other.text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }
}
