package io.pgtrickle.core.capture;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import java.time.Duration;

/**
 * An engine in a process of its own, so a test can kill it without a clean stop:
 * {@code EngineProcess <jdbc-url> <slot>} starts the engine (WAL capture, scheduler, listener),
 * prints READY, and runs until killed.
 */
public final class EngineProcess {
    private EngineProcess() {
    }

    public static void main(String[] args) throws Exception {
        EngineConfig config = EngineConfig.of(args[0]).withSlotName(args[1]).withCdcMode(CdcMode.WAL)
                .withSchedulerTick(Duration.ofMillis(200));
        PgTrickleEngine engine = PgTrickleEngine.open(config).start();
        engine.capture().start();
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
