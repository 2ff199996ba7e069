package io.pgtrickle.relay.pipeline;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One active owner per pipeline among the relays of a {@code relay_group_id}: a session-level
 * advisory lock held on a connection of its own. PostgreSQL releases it when that session ends, so
 * when the owner dies (SIGKILL closes its socket) a standby's next try succeeds; when the owner
 * loses its connection it must stop delivering, which {@link #held()} tells it.
 */
public final class PipelineOwnership implements AutoCloseable {
    /** The first half of every relay lock key: 'PGTR'. */
    static final int LOCK_CLASS = 0x50475452;
    private static final Logger log = LoggerFactory.getLogger(PipelineOwnership.class);

    private final Supplier<Connection> connections;
    private final String lockName;
    private Connection session;

    /**
     * @param connections opens a new connection to the database of the outboxes (not from a pool:
     *     the lock lives as long as this one session)
     */
    public PipelineOwnership(Supplier<Connection> connections, String relayGroupId, String pipeline) {
        this.connections = connections;
        this.lockName = relayGroupId + "/" + pipeline;
    }

    /** Takes the lock if no other session holds it; true when this relay owns the pipeline now. */
    public boolean tryAcquire() {
        if (held()) {
            return true;
        }
        closeSession();
        try {
            session = connections.get();
            try (PreparedStatement ps = session.prepareStatement("SELECT pg_try_advisory_lock(?, hashtext(?))")) {
                ps.setInt(1, LOCK_CLASS);
                ps.setString(2, lockName);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        return true;
                    }
                }
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("cannot try the ownership lock of pipeline {}: {}", lockName, e.getMessage());
        }
        closeSession();
        return false;
    }

    /** Whether the lock's session is still alive (so the lock is still held). */
    public boolean held() {
        try {
            return session != null && session.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }

    /** Releases the lock (by ending its session). */
    @Override
    public void close() {
        closeSession();
    }

    private void closeSession() {
        if (session != null) {
            try {
                session.close();
            } catch (SQLException e) {
                log.debug("closing the ownership session of {}: {}", lockName, e.getMessage());
            }
            session = null;
        }
    }
}
