package io.pgtrickle.relay.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class JdbcUrlsTest {
    @Test
    void aJdbcUrlStaysAsItIs() {
        assertThat(JdbcUrls.jdbc("jdbc:postgresql://db:5432/app?user=x")).isEqualTo("jdbc:postgresql://db:5432/app?user=x");
    }

    @Test
    void userAndPasswordInTheAuthorityBecomeParameters() {
        assertThat(JdbcUrls.jdbc("postgresql://relay:s3cret@db.internal:5432/app"))
                .isEqualTo("jdbc:postgresql://db.internal:5432/app?user=relay&password=s3cret");
        assertThat(JdbcUrls.jdbc("postgres://relay@db/app?sslmode=require"))
                .isEqualTo("jdbc:postgresql://db/app?sslmode=require&user=relay");
        assertThat(JdbcUrls.jdbc("postgresql://db:5432/app")).isEqualTo("jdbc:postgresql://db:5432/app");
    }

    @Test
    void redactionHidesPasswordsInBothForms() {
        assertThat(JdbcUrls.redacted("postgresql://relay:s3cret@db/app")).isEqualTo("postgresql://relay:****@db/app");
        assertThat(JdbcUrls.redacted("jdbc:postgresql://db/app?user=r&password=s3cret&ssl=true"))
                .isEqualTo("jdbc:postgresql://db/app?user=r&password=****&ssl=true");
    }

    @Test
    void anotherSchemeIsRefusedNamingTheForms() {
        assertThatThrownBy(() -> JdbcUrls.jdbc("mysql://db/app")).hasMessageContaining(
                "postgres_url must start with jdbc:postgresql://, postgresql:// or postgres://");
    }
}
