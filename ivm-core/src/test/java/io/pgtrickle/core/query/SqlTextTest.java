package io.pgtrickle.core.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SqlTextTest {
    @Test
    void trailingSemicolonsAndWhitespaceAreDropped() {
        assertThat(SqlText.requireSingleStatement("  SELECT 1 ;; \n")).isEqualTo("SELECT 1");
        assertThat(SqlText.requireSingleStatement("SELECT 1 -- done\n;")).isEqualTo("SELECT 1");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT 'a;b' AS x",
            "SELECT E'it\\'s; fine' AS x",
            "SELECT \"semi;colon\" FROM t",
            "SELECT $$a;b$$ AS x",
            "SELECT $tag$ ; $$ ; $tag$ AS x",
            "SELECT 1 /* ; /* nested ; */ still ; */ AS x",
            "SELECT 1 AS x -- ; comment",
            "SELECT 'don''t;' AS x",
            "SELECT data ? 'k' FROM t"})
    void semicolonsInsideQuotesAndCommentsAreNotStatementEnds(String sql) {
        assertThat(SqlText.requireSingleStatement(sql)).startsWith("SELECT");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT 1; DROP TABLE t",
            "SELECT 1) q; DROP TABLE t; SELECT * FROM (SELECT 1",
            "SELECT 'a'';' ; DELETE FROM t",
            "SELECT $$x$$; SELECT 2"})
    void aSecondStatementIsRejected(String sql) {
        assertThatThrownBy(() -> SqlText.requireSingleStatement(sql))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_QUERY))
                .hasMessageContaining("single SELECT statement");
    }

    @ParameterizedTest
    @ValueSource(strings = {"SELECT 'open", "SELECT $$open", "SELECT /* open", "SELECT \"open"})
    void unterminatedQuotesAndCommentsAreRejected(String sql) {
        assertThatThrownBy(() -> SqlText.requireSingleStatement(sql)).hasMessageContaining("unterminated");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", ";", "-- only a comment", "/* x */"})
    void emptyQueriesAreRejected(String sql) {
        assertThatThrownBy(() -> SqlText.requireSingleStatement(sql)).hasMessageContaining("must not be empty");
    }
}
