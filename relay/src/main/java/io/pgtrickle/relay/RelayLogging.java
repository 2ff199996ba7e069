package io.pgtrickle.relay;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import org.slf4j.LoggerFactory;

/** Applies {@code log_level} and {@code log_format} (text, or one JSON object per line). */
final class RelayLogging {
    private RelayLogging() {
    }

    static void apply(String level, String format) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(level, Level.INFO));
        if ("json".equals(format)) {
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
}
