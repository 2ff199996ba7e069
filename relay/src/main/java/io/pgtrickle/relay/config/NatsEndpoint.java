package io.pgtrickle.relay.config;

/** A NATS server: {@code url}, and optional {@code user}/{@code password} or {@code token} (null when absent). */
public record NatsEndpoint(String url, String user, Secret password, Secret token) {
}
