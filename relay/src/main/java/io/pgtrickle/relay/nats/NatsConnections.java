package io.pgtrickle.relay.nats;

import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.pgtrickle.relay.config.NatsEndpoint;
import java.io.IOException;
import java.time.Duration;

/** Opens NATS connections for the relay's NATS target and source. */
public final class NatsConnections {
    private NatsConnections() {
    }

    /**
     * Connects to the endpoint, with its user/password or token, waiting at most {@code timeout}.
     * The connection does not reconnect by itself: a target or source whose server went away fails
     * and the pipeline starts over with a new one, so nothing buffered in a dead client is sent late.
     */
    public static Connection connect(NatsEndpoint endpoint, Duration timeout) throws IOException, InterruptedException {
        Options.Builder options = Options.builder()
                .server(endpoint.url())
                .connectionTimeout(timeout)
                .noReconnect()
                .connectionName("pgtrickle-relay");
        if (endpoint.user() != null) {
            options.userInfo(endpoint.user(), endpoint.password() == null ? "" : endpoint.password().reveal());
        }
        if (endpoint.token() != null) {
            options.token(endpoint.token().reveal().toCharArray());
        }
        return Nats.connect(options.build());
    }
}
