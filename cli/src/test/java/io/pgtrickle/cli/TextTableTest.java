package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TextTableTest {
    @Test
    void alignsColumnsLikePsqlWithNumbersOnTheRight() {
        TextTable table = new TextTable(List.of("division", "total_headcount"), List.of(false, true))
                .add(List.of("Engineering", "4"))
                .add(List.of("R&D", "12"));

        assertThat(table.render("")).isEqualTo("""
                 division    | total_headcount
                -------------+-----------------
                 Engineering |               4
                 R&D         |              12
                """);
    }

    @Test
    void markersGetTheirOwnColumnOnlyWhenARowHasOne() {
        TextTable table = TextTable.of("name").add(List.of("kept")).add("+", List.of("new")).add("-", List.of("gone"));

        assertThat(table.render("  ")).isEqualTo(""
                + "     name\n"
                + "    ------\n"
                + "     kept\n"
                + "  +  new\n"
                + "  -  gone\n");
        assertThat(TextTable.of("name").add(List.of("a")).render("")).isEqualTo(" name\n------\n a\n");
    }

    @Test
    void headerOnlyTableAndWrongRowWidth() {
        TextTable table = TextTable.of("a", "bb");

        assertThat(table.isEmpty()).isTrue();
        assertThat(table.render("")).isEqualTo(" a | bb\n---+----\n");
        assertThatThrownBy(() -> table.add(List.of("only one"))).isInstanceOf(IllegalArgumentException.class);
    }
}
