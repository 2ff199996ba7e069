package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The README's command table lists exactly the commands the CLI has. */
class ReadmeCommandsTest {
    private static final Pattern COMMAND_ROW = Pattern.compile("^\\| `([a-z-]+)` \\| ");

    @Test
    void commandTableMatchesTheSubcommands() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        String section = readme.substring(readme.indexOf("### Command line"), readme.indexOf("Exit codes, for scripts"));
        TreeSet<String> documented = section.lines().map(COMMAND_ROW::matcher).filter(Matcher::find)
                .map(m -> m.group(1)).collect(Collectors.toCollection(TreeSet::new));

        TreeSet<String> actual = new TreeSet<>(new CommandLine(new Main()).getSubcommands().keySet());
        actual.remove("help");

        assertThat(documented).isEqualTo(actual);
    }
}
