package io.pgtrickle.core.query;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SqlJsonSyntaxTest {
    @Test
    void constructorsAndIsJsonNeedSixteenQueryFunctionsSeventeen() {
        assertThat(SqlJsonSyntax.minimumServerVersion("SELECT JSON_OBJECT('k' : v) FROM a")).isEqualTo(160000);
        assertThat(SqlJsonSyntax.minimumServerVersion("SELECT s IS NOT JSON ARRAY FROM a")).isEqualTo(160000);
        assertThat(SqlJsonSyntax.minimumServerVersion("SELECT json_arrayagg(v) FROM a")).isEqualTo(160000);
        assertThat(SqlJsonSyntax.minimumServerVersion("SELECT JSON_VALUE(doc, '$.a'), JSON_OBJECT() FROM a")).isEqualTo(170000);
        assertThat(SqlJsonSyntax.minimumServerVersion("SELECT JSON(doc::text) FROM a")).isEqualTo(170000);
    }

    @Test
    void ordinaryJsonFunctionsAndCastsNeedNothing() {
        assertThat(SqlJsonSyntax.minimumServerVersion("SELECT json_agg(v), jsonb_agg(v), to_json(s), row_to_json(a),"
                + " json_build_object('k', v), doc::json, doc->>'a' FROM a")).isZero();
    }
}
