package io.pgtrickle.relay.config;

/**
 * A Redis server: {@code url} ({@code redis://host:port[/db]}), optional {@code user} and
 * {@code password} (null when absent).
 */
public record RedisEndpoint(String url, String user, Secret password) {
}
