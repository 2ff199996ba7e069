package io.pgtrickle.core.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import org.junit.jupiter.api.Test;

class ServerCapabilitiesTest {
    @Test
    void mergeReturningIsUsedFrom17On() {
        assertThat(new ServerCapabilities(150019).mergeReturning()).isFalse();
        assertThat(new ServerCapabilities(160015).mergeReturning()).isFalse();
        assertThat(new ServerCapabilities(170011).mergeReturning()).isTrue();
        assertThat(new ServerCapabilities(180006).mergeReturning()).isTrue();
    }

    @Test
    void versionsPrintAsPostgresPrintsThem() {
        assertThat(new ServerCapabilities(150019).version()).isEqualTo("15.19");
        assertThat(new ServerCapabilities(90624).version()).isEqualTo("9.6.24");
        assertThat(new ServerCapabilities(180006).major()).isEqualTo(18);
    }

    @Test
    void aServerOlderThan15IsRefusedNamingTheVersionFoundAndTheSupportedOnes() {
        assertThat(new ServerCapabilities(150000).requireSupported("db")).isNotNull();
        assertThatThrownBy(() -> new ServerCapabilities(140024).requireSupported("jdbc:postgresql://h/db"))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED_SERVER))
                .hasMessage("jdbc:postgresql://h/db runs PostgreSQL 14.24, which pg_trickle does not support: it needs"
                        + " PostgreSQL 15 or later (15, 16, 17 and 18 are tested); upgrade the server");
    }
}
