package io.pgtrickle.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** Log levels the commands change at run time; the defaults are in {@code logback.xml}. */
final class Logging {
    private static final String ENGINE = "io.pgtrickle";

    private Logging() {
    }

    /** {@code -v}: the engine's debug log. */
    static void verbose() {
        setEngineLevel(Level.DEBUG);
    }

    /** The daemon reports what the engine does (creates, drops, failed refreshes). */
    static void engineInfo() {
        if (!LoggerFactory.getLogger(ENGINE).isInfoEnabled()) {
            setEngineLevel(Level.INFO);
        }
    }

    private static void setEngineLevel(Level level) {
        if (LoggerFactory.getLogger(ENGINE) instanceof Logger logger) {
            logger.setLevel(level);
        }
    }
}
