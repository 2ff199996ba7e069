package io.pgtrickle.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The README's reference tables say what the code does. */
@ExtendWith(PostgresExtension.class)
class ReadmeReferenceIT {
    private static final Pattern FUNCTION_ROW = Pattern.compile("^\\| `([a-z_]+)\\(([^)]*)\\)` \\|");
    private static final Pattern EXIT_ROW = Pattern.compile("^\\| (\\d+) \\| .+ \\|$");

    private static List<String> readme() throws IOException {
        return Files.readAllLines(Path.of("..", "README.md"));
    }

    @Test
    void sqlFunctionTableListsEveryPublicFunctionWithItsParameters(TestDatabase db) throws IOException {
        EngineFixture.open(db).close();
        Map<String, List<String>> documented = new TreeMap<>();
        for (String line : readme()) {
            Matcher m = FUNCTION_ROW.matcher(line);
            if (m.find()) {
                documented.put(m.group(1), Arrays.stream(m.group(2).split(","))
                        .map(p -> p.strip().split("\\s")[0]).filter(p -> !p.isEmpty()).toList());
            }
        }
        Map<String, List<String>> actual = new TreeMap<>();
        for (List<Object> row : db.rows("SELECT p.proname, coalesce(array_to_string(p.proargnames[1:p.pronargs], ','), '')"
                + " FROM pg_proc p WHERE p.pronamespace = 'pgtrickle'::regnamespace AND p.proname NOT LIKE '\\_%'")) {
            String args = (String) row.get(1);
            actual.put((String) row.get(0), args.isEmpty() ? List.of() : List.of(args.split(",")));
        }
        assertThat(documented).isEqualTo(actual);
    }

    @Test
    void exitCodeTableMatchesTheErrorCodes() throws IOException {
        TreeSet<Integer> documented = readme().stream().map(EXIT_ROW::matcher).filter(Matcher::matches)
                .map(m -> Integer.parseInt(m.group(1))).collect(Collectors.toCollection(TreeSet::new));
        TreeSet<Integer> actual = Arrays.stream(ErrorCode.values()).map(ErrorCode::exitCode)
                .collect(Collectors.toCollection(TreeSet::new));
        actual.add(0);  // success
        actual.add(2);  // usage errors, reported by the command-line parser
        assertThat(documented).isEqualTo(actual);
    }
}
