package io.pgtrickle.relay.target.stdout;

import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.relay.target.OutboundMessage;
import io.pgtrickle.relay.target.PublishResult;
import io.pgtrickle.relay.target.Target;
import io.pgtrickle.relay.target.TargetException;
import java.io.PrintStream;
import java.util.List;
import java.util.Optional;

/**
 * One JSON line per change on standard output, for debugging and shell pipelines. It cannot tell
 * what it already wrote, so after a crash the changes since the last committed position are written
 * again (at least once).
 */
public final class StdoutTarget implements Target {
    private final PrintStream out;
    private int unflushed;

    public StdoutTarget(PrintStream out) {
        this.out = out;
    }

    @Override
    public String describe() {
        return "stdout";
    }

    @Override
    public void open() {
    }

    @Override
    public Optional<OutboxPosition> lastPublished() {
        return Optional.empty();
    }

    @Override
    public void send(List<OutboundMessage> batch) {
        for (OutboundMessage m : batch) {
            out.println(m.message().value());
        }
        unflushed += batch.size();
    }

    @Override
    public PublishResult flush() throws TargetException {
        out.flush();
        if (out.checkError()) {
            throw new TargetException("cannot write to standard output (closed pipe?)", true);
        }
        PublishResult r = new PublishResult(unflushed, 0);
        unflushed = 0;
        return r;
    }

    @Override
    public void close() {
        out.flush();
    }
}
