package io.pgtrickle.core.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class IdentifiersTest {
    @Test
    void aLiteralDoublesQuotesAndEscapesBackslashesInAnEscapeString() {
        assertThat(Identifiers.literal("total")).isEqualTo("'total'");
        assertThat(Identifiers.literal("it's")).isEqualTo("'it''s'");
        assertThat(Identifiers.literal("a\\b'c")).isEqualTo("E'a\\\\b''c'");
        assertThatThrownBy(() -> Identifiers.literal("a\0b")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anIdentifierIsAlwaysQuotedWithDoubledQuotes() {
        assertThat(Identifiers.quote("a\"b")).isEqualTo("\"a\"\"b\"");
    }
}
