package io.pgtrickle.core.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class QualifiedNameTest {
    @Test
    void unquotedPartsFoldToLowerCaseAndSchemaDefaultsToPublic() {
        assertThat(QualifiedName.parse("Orders")).isEqualTo(new QualifiedName("public", "orders"));
        assertThat(QualifiedName.parse("Sales.Orders")).isEqualTo(new QualifiedName("sales", "orders"));
    }

    @Test
    void quotedPartsKeepCaseDotsAndQuotes() {
        assertThat(QualifiedName.parse("\"My Schema\".\"a.\"\"b\"")).isEqualTo(new QualifiedName("My Schema", "a.\"b"));
    }

    @Test
    void quotingIsSafeForHostileNames() {
        QualifiedName n = new QualifiedName("public", "x\"; DROP TABLE t; --");
        assertThat(n.quoted()).isEqualTo("\"public\".\"x\"\"; DROP TABLE t; --\"");
    }

    @Test
    void canonicalFormQuotesOnlyWhereNeeded() {
        assertThat(QualifiedName.parse("public.department_tree").canonical()).isEqualTo("public.department_tree");
        assertThat(new QualifiedName("public", "Mixed").canonical()).isEqualTo("public.\"Mixed\"");
        assertThat(new QualifiedName("public", "select").canonical()).isEqualTo("public.\"select\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "a.b.c", "a b", "x;y", "\"open", "a.", ".a", "1abc", "\"\""})
    void invalidNamesAreRejected(String text) {
        assertThatThrownBy(() -> QualifiedName.parse(text))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_NAME))
                .hasMessageContaining("invalid stream table name");
    }

    @Test
    void namesLongerThan63BytesAreRejected() {
        assertThatThrownBy(() -> QualifiedName.parse("a".repeat(64))).hasMessageContaining("63 bytes");
        assertThat(QualifiedName.parse("a".repeat(63)).name()).hasSize(63);
    }
}
