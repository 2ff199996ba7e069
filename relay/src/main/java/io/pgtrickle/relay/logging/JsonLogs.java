package io.pgtrickle.relay.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import org.slf4j.LoggerFactory;

/**
 * Structured logs: every log event as one JSON object per line on stderr (logback's
 * {@link JsonEncoder}: timestamp, level, logger, thread, message, MDC, exception), in place of the
 * text appenders. Shared by the relay ({@code log_format = "json"}) and {@code pgtrickle run
 * --log-format json}.
 */
public final class JsonLogs {
    private JsonLogs() {
    }

    /** Replaces the root logger's appenders by a JSON one on stderr; nothing without logback. */
    public static void enable() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ConsoleAppender<ILoggingEvent> json = new ConsoleAppender<>();
        json.setContext(context);
        json.setName("STDERR_JSON");
        json.setTarget("System.err");
        JsonEncoder encoder = new JsonEncoder();
        encoder.setContext(context);
        encoder.start();
        json.setEncoder(encoder);
        json.start();
        root.detachAndStopAllAppenders();
        root.addAppender(json);
    }
}
