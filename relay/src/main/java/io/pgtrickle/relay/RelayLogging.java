package io.pgtrickle.relay;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import io.pgtrickle.relay.logging.JsonLogs;
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
            JsonLogs.enable();
        }
    }
}
