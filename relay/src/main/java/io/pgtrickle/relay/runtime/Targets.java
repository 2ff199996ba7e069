package io.pgtrickle.relay.runtime;

import io.pgtrickle.format.ChangeEvent;
import io.pgtrickle.format.Template;
import io.pgtrickle.relay.config.SinkConfig;
import io.pgtrickle.relay.target.Target;
import io.pgtrickle.relay.target.kafka.KafkaTarget;
import io.pgtrickle.relay.target.nats.NatsTarget;
import io.pgtrickle.relay.target.redis.RedisTarget;
import io.pgtrickle.relay.target.stdout.StdoutTarget;
import java.io.PrintStream;
import java.util.function.Function;

/** The target of a forward pipeline's sink, and where each change goes in it. */
final class Targets {
    private Targets() {
    }

    /** A new target for one session of the pipeline; {@code streamTable} is what {stream_table} expands to. */
    static Target create(SinkConfig sink, String streamTable, PrintStream stdout) {
        if (sink instanceof SinkConfig.Stdout) {
            return new StdoutTarget(stdout);
        }
        if (sink instanceof SinkConfig.Kafka k) {
            return new KafkaTarget(k, streamTable);
        }
        if (sink instanceof SinkConfig.Nats n) {
            return new NatsTarget(n, streamTable);
        }
        if (sink instanceof SinkConfig.Redis r) {
            return new RedisTarget(r, streamTable);
        }
        throw new IllegalArgumentException("not a forward sink: " + sink.getClass().getSimpleName());
    }

    static Function<ChangeEvent, String> destination(SinkConfig sink, String streamTable) {
        Template template = null;
        if (sink instanceof SinkConfig.Kafka k) {
            template = k.topic();
        } else if (sink instanceof SinkConfig.Nats n) {
            template = n.subject();
        } else if (sink instanceof SinkConfig.Redis r) {
            template = r.streamKey();
        }
        if (template == null) {
            return e -> "stdout";
        }
        Template t = template;
        if (!t.usesOp()) {
            String fixed = t.expand(streamTable, "");
            return e -> fixed;
        }
        return e -> t.expand(streamTable, e.op());
    }
}
